#!/usr/bin/env node
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import pkg from '../package.json' with { type: 'json' }
import { buildApp } from './app.js'
import { parseCommandLine, USAGE } from './command-line.js'
import { withoutEmptyValues } from './config.js'
import { serveOverStdio } from './mcp/stdio.js'
import { loggerOptions } from './observability/logger.js'
import { claimPidFile, releasePidFile, signalRouter } from './pid-file.js'
import { ignoreHangupWithoutReload } from './reload-on-hangup.js'

// close-with-grace closes on every signal it knows unless told to skip it. Only these two mean
// "shut down" here: SIGHUP reloads (src/reload-on-hangup.ts), and a crash signal is not a request
// to drain. A signal close-with-grace adds in a later version fails the type check until placed.
const closesOn: Record<closeWithGrace.Signals, boolean> = {
  SIGTERM: true,
  SIGINT: true,
  SIGHUP: false,
  SIGQUIT: false,
  SIGILL: false,
  SIGTRAP: false,
  SIGABRT: false,
  SIGBUS: false,
  SIGFPE: false,
  SIGSEGV: false,
  SIGUSR2: false,
}
const notShutdownSignals = Object.entries(closesOn)
  .filter(([, closes]) => !closes)
  .map(([signal]) => signal as closeWithGrace.Signals)

/**
 * The entry point (`npm start`, the `mcp-openai-router` command): build, then listen (HTTP, the
 * default) or serve the client on stdin/stdout (`--stdio`), and close gracefully on SIGTERM/SIGINT.
 */
async function main (): Promise<void> {
  const command = parseCommandLine(process.argv.slice(2))
  if (command.run === 'help' || command.run === 'version') {
    process.stdout.write(command.run === 'help' ? USAGE : `${pkg.version}\n`)
    return
  }
  if (command.run === 'refused') {
    process.stderr.write(`mcp-openai-router: ${command.problem} (see mcp-openai-router --help)\n`)
    process.exit(2)
  }
  if (command.run === 'reload') return reload()

  let app: FastifyInstance | undefined
  ignoreHangupWithoutReload(() => app?.log)
  try {
    // Over stdio, stdout carries the protocol and nothing else: the log goes to stderr.
    app = await buildApp({ env: process.env, logger: loggerOptions(process.env, command.run === 'stdio' ? 'stderr' : 'stdout'), transport: command.run })
  } catch (err) {
    // One line a person can act on ("Invalid configuration: PORT must be integer"), no stack.
    process.stderr.write(`mcp-openai-router: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  }

  const { config } = app
  const pidFile = config.PID_FILE
  try {
    if (pidFile !== undefined) await claimPidFile(pidFile)
  } catch (err) {
    process.stderr.write(`mcp-openai-router: ${(err as Error).message}\n`)
    process.exit(1)
  }
  const connection = command.run === 'stdio' ? serveOverStdio({ runtime: app.toolRuntime, router: app.modelRouter, log: app.log, maxMessageBytes: config.MAX_BODY_BYTES, checkUpstreams: config.READY_CHECK_UPSTREAM }) : undefined
  let closing = false
  const graceOptions = { delay: config.SHUTDOWN_GRACE_MS + 5000, logger: app.log, skip: notShutdownSignals }
  const shutdown = closeWithGrace(graceOptions, async ({ signal, err, manual }) => {
    closing = true
    if (err) app.log.error({ err }, 'closing after an unexpected error')
    else if (manual) app.log.info('shutting down: the stdio client closed the connection')
    else app.log.info({ signal }, 'shutting down: finishing in-flight calls')
    await connection?.close()
    await app.close()
    if (pidFile !== undefined) await releasePidFile(pidFile)
  })

  if (connection) {
    app.log.info({ version: pkg.version }, 'serving MCP over stdio')
    // The client ends a stdio server by closing its stdin; the router then closes as on SIGTERM
    // (a SIGTERM's own close ends the connection too, and is not run twice).
    await connection.ended
    if (!closing) shutdown.close()
    return
  }
  try {
    await app.listen({ port: config.PORT, host: config.HOST })
  } catch (err) {
    process.stderr.write(`mcp-openai-router: ${listenFailure(err, config.PORT, config.HOST)}\n`)
    if (pidFile !== undefined) await releasePidFile(pidFile)
    process.exit(1)
  }
}

/** `mcp-openai-router reload`: SIGHUP to exactly the router PID_FILE names, not to every router on the machine. */
async function reload (): Promise<void> {
  try {
    const pid = await signalRouter(withoutEmptyValues(process.env).PID_FILE, 'SIGHUP')
    process.stdout.write(`mcp-openai-router: sent SIGHUP to process ${pid}\n`)
  } catch (err) {
    process.stderr.write(`mcp-openai-router: ${(err as Error).message}\n`)
    process.exit(1)
  }
}

/** Why the router cannot listen, in one line naming the settings to change. */
function listenFailure (err: unknown, port: number, host: string): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE': return `PORT ${port} is already in use on ${host}`
    case 'EACCES': return `PORT ${port} on ${host} needs privileges this process does not have`
    case 'EADDRNOTAVAIL': return `HOST ${host} is not an address of this machine`
    default: return `cannot listen on ${host}:${port}: ${err instanceof Error ? err.message : String(err)}`
  }
}

await main()
