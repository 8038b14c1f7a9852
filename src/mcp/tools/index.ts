import type { RouterConfig } from '../../config.js'
import type { Downstream } from '../../downstream/downstream.js'
import type { ModelRouter } from '../../routing/model-router.js'
import type { ResponseCache } from '../../shared-state/response-cache.js'
import type { ResponseOwners } from '../../shared-state/response-owners.js'
import type { SchemaChecker } from '../schemas/schema-checker.js'
import type { RouterTool, UpstreamServices } from '../tool.js'
import { cancelResponseTool } from './cancel-response.js'
import { StoredResponses } from './chat/background-response.js'
import { chatTool } from './chat/chat.js'
import { echoTool } from './echo.js'
import { embedTool } from './embed.js'
import { generateImageTool } from './generate-image.js'
import { getResponseTool } from './get-response.js'
import { listModelsTool } from './list-models.js'
import { readFileTool } from './read-file.js'

/** Every tool the router can offer, in the order `tools/list` shows them. */
export const tools = [
  chatTool, getResponseTool, cancelResponseTool, embedTool, generateImageTool, listModelsTool, readFileTool, echoTool,
]

/** The settings the tools read: their defaults and limits. */
export type ToolSettings = UpstreamServices['settings'] & Pick<RouterConfig,
  'MODEL' | 'EMBEDDING_MODEL' | 'IMAGE_MODEL' | 'BUDGET_DEFAULT_OUTPUT_TOKENS' | 'AGENT_MAX_TURNS' | 'POLL_INTERVAL_MS' | 'POLL_MAX_MS' |
  'READ_FILE_ROOT' | 'READ_FILE_MAX_BYTES' | 'READ_FILE_ALLOW_HARDLINKS'>

/** What the tools are made with, once per app: each takes only its part. */
export interface ToolServices {
  /** The routing table in force: each call takes it once, as it starts, so a reload does not move it. */
  router: Pick<ModelRouter, 'table'>
  metrics: UpstreamServices['metrics']
  tracer: UpstreamServices['tracer']
  /** Cached chat and embed answers; undefined when CACHE_TTL_S is 0. */
  cache: ResponseCache | undefined
  schemas: SchemaChecker
  downstream: Pick<Downstream, 'select'>
  responseOwners: ResponseOwners
  settings: ToolSettings
}

/** The tools this configuration offers, bound to what each uses: read_file only when a directory is shared. */
export function enabledTools (services: ToolServices): RouterTool[] {
  const { router, metrics, tracer, cache, schemas, downstream, responseOwners, settings } = services
  const { UPSTREAM_TIMEOUT_MS, UPSTREAM_MAX_RETRIES, UPSTREAM_RETRY_BASE_MS } = settings
  const upstream: UpstreamServices = {
    metrics,
    tracer,
    settings: { UPSTREAM_TIMEOUT_MS, UPSTREAM_MAX_RETRIES, UPSTREAM_RETRY_BASE_MS },
  }
  const polling = { intervalMs: settings.POLL_INTERVAL_MS, maxMs: settings.POLL_MAX_MS }
  const responses = new StoredResponses({ upstream, owners: responseOwners, polling })
  const root = settings.READ_FILE_ROOT
  const readFile = root === undefined
    ? []
    : [readFileTool.bind({
        root,
        maxBytes: settings.READ_FILE_MAX_BYTES,
        allowHardlinks: settings.READ_FILE_ALLOW_HARDLINKS,
      })]
  return [
    chatTool.bind({
      router,
      upstream,
      responses,
      cache,
      schemas,
      downstream,
      defaults: {
        model: settings.MODEL,
        outputTokens: settings.BUDGET_DEFAULT_OUTPUT_TOKENS,
        maxTurns: settings.AGENT_MAX_TURNS,
      },
    }),
    getResponseTool.bind({ router, responses }),
    cancelResponseTool.bind({ router, responses }),
    embedTool.bind({ router, upstream, cache, defaultModel: settings.EMBEDDING_MODEL }),
    generateImageTool.bind({ router, upstream, defaultModel: settings.IMAGE_MODEL }),
    listModelsTool.bind({ router, defaultModel: settings.MODEL }),
    ...readFile,
    echoTool.bind(),
  ]
}
