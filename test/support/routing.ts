import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { FastifyInstance } from 'fastify'
import { stringify } from 'yaml'
import { loggerOptions } from '../../src/observability/logger.js'
import { buildTestApp, connectInProcess, type InProcessOptions, injectFetch } from './app.js'
import { FakeOpenAI } from './fake-openai.js'
import type { LogCapture } from './logs.js'

/** The app, in process, in front of several fake upstreams, named by provider, with a routing file written for them. */
export interface RoutedStack {
  upstreams: Record<string, FakeOpenAI>
  app: FastifyInstance
  /** A request to the app's other routes (`/ready`, `/metrics`), answered in process. */
  fetch: (path: string) => Promise<Response>
  client: Client
  /** The routing file; rewrite it with {@link RoutedStack.writeConfig}. */
  file: string
  writeConfig: (config: object | string) => Promise<void>
  close: () => Promise<void>
}

export type RoutingFile = Record<string, unknown> & { providers: Array<Record<string, unknown> & { name: string }> }

/**
 * Starts one fake upstream per provider of `config` (its `baseURL` filled in unless given) and the
 * router with ROUTER_CONFIG pointing at the file. Keys come from `ROUTED_TEST_KEY`.
 */
export async function startRoutedStack (config: RoutingFile, env: Record<string, string> = {}, logs?: LogCapture, { clock }: Pick<InProcessOptions, 'clock'> = {}): Promise<RoutedStack> {
  const upstreams: Record<string, FakeOpenAI> = {}
  for (const provider of config.providers) upstreams[provider.name] = await FakeOpenAI.start()
  const dir = await mkdtemp(join(tmpdir(), 'router-routing-'))
  const file = join(dir, 'routing.yaml')
  const withUpstreams = (routing: object | string) => typeof routing === 'string'
    ? routing
    : stringify({
      ...routing,
      providers: (routing as RoutingFile).providers.map((provider) => ({ baseURL: upstreams[provider.name]?.baseURL, apiKeyEnv: 'ROUTED_TEST_KEY', ...provider })),
    })
  const writeConfig = async (routing: object | string) => writeFile(file, withUpstreams(routing))
  await writeConfig(config)
  const app = await buildTestApp({ ROUTER_CONFIG: file, ROUTED_TEST_KEY: 'sk-routed-test', ...env }, {
    ...(logs && { logger: { ...loggerOptions({}) as object, stream: logs.stream } }),
    ...(clock && { clock }),
  })
  const client = await connectInProcess(app)
  const inject = injectFetch(app)
  return {
    upstreams,
    app,
    fetch: (path) => inject(new URL(path, 'http://localhost')),
    client,
    file,
    writeConfig,
    async close () {
      await client.close()
      await app.close()
      await Promise.all(Object.values(upstreams).map(async (upstream) => upstream.close()))
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** What the model-calling tools return about routing. */
export interface RoutedResult {
  model: string
  provider: string
  attempts: Array<{ provider: string, model: string, outcome: string }>
  text?: string
}

export function routedResult (result: object): RoutedResult {
  return (result as { structuredContent: RoutedResult }).structuredContent
}
