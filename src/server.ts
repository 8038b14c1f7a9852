import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { loggerOptions } from './observability/logger.js'

/** The entry point: build, listen, and close gracefully on SIGTERM/SIGINT. */
async function main (): Promise<void> {
  let app
  try {
    app = await buildApp({ env: process.env, logger: loggerOptions(process.env) })
  } catch (err) {
    // One line a person can act on ("Invalid configuration: PORT must be integer"), no stack.
    process.stderr.write(`mcp-openai-router: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  }

  const { config } = app
  closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS + 5000, logger: app.log }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an unexpected error')
    else app.log.info({ signal }, 'shutting down: finishing in-flight calls')
    await app.close()
  })

  await app.listen({ port: config.PORT, host: config.HOST })
}

await main()
