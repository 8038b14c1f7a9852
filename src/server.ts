import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import { loggerOptions } from './observability/logger.js'
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
const notShutdownSignals = Object.entries(closesOn).filter(([, closes]) => !closes).map(([signal]) => signal as closeWithGrace.Signals)

/** The entry point: build, listen, and close gracefully on SIGTERM/SIGINT. */
async function main (): Promise<void> {
  let app: FastifyInstance | undefined
  ignoreHangupWithoutReload(() => app?.log)
  try {
    app = await buildApp({ env: process.env, logger: loggerOptions(process.env) })
  } catch (err) {
    // One line a person can act on ("Invalid configuration: PORT must be integer"), no stack.
    process.stderr.write(`mcp-openai-router: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  }

  const { config } = app
  closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS + 5000, logger: app.log, skip: notShutdownSignals }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an unexpected error')
    else app.log.info({ signal }, 'shutting down: finishing in-flight calls')
    await app.close()
  })

  try {
    await app.listen({ port: config.PORT, host: config.HOST })
  } catch (err) {
    process.stderr.write(`mcp-openai-router: ${listenFailure(err, config.PORT, config.HOST)}\n`)
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
