import { randomUUID } from 'node:crypto'
import { type CallToolResult, LOG_LEVEL_META_KEY, ProtocolError, ProtocolErrorCode, Server, type ServerContext, type Tool } from '@modelcontextprotocol/server'
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv'
import type { Tracer } from '@opentelemetry/api'
import type { FastifyBaseLogger } from 'fastify'
import pkg from '../../package.json' with { type: 'json' }
import type { Client } from '../access/client-keys.js'
import { missingToolScope } from '../access/tool-scopes.js'
import type { RouterKeys } from '../access/router-keys.js'
import type { Budgets } from '../access/budgets.js'
import type { RouterConfig } from '../config.js'
import type { Downstream } from '../downstream/downstream.js'
import { ToolError } from '../errors.js'
import type { CallHistory } from '../observability/call-history.js'
import type { BodyLogging } from '../observability/log-bodies.js'
import { ANONYMOUS_CLIENT, type RouterMetrics } from '../observability/metrics.js'
import type { PriceTable } from '../observability/prices.js'
import type { ModelRouter } from '../routing/model-router.js'
import type { ResponseCache } from '../shared-state/response-cache.js'
import type { ResponseOwners } from '../shared-state/response-owners.js'
import type { InFlightCalls } from './in-flight-calls.js'
import { ClientLog, ClientLogLevels, isLoggingLevel } from './client-log.js'
import { McpMessageLog } from './message-log.js'
import { CallBudget } from './call-budget.js'
import { CallProgress } from './progress.js'
import { requestContextOf } from './request-context.js'
import type { SchemaChecker } from './schemas/schema-checker.js'
import { watchingEveryTransport } from './transport-adapter.js'
import { toolErrorResult } from './tool-error.js'
import type { CallScope, RouterTool } from './tool.js'
import { enabledTools } from './tools/index.js'

export interface ToolRuntimeDependencies {
  router: ModelRouter
  config: RouterConfig
  downstream: Downstream
  log: FastifyBaseLogger
  metrics: RouterMetrics
  tracer: Tracer
  calls: InFlightCalls
  cache: ResponseCache | undefined
  schemas: SchemaChecker
  responseOwners: ResponseOwners
  /** The clients' token and USD limits: a call reserves its estimate before it spends, and settles to what it spent. */
  budgets: Budgets
  /** The prices USD budgets count with (the cost metric's). */
  prices: PriceTable
  /** Every finished call goes here too, for the status page. */
  history: CallHistory
  /** The router's own keys, which streamed text must not spell out across two progress messages. */
  keys: RouterKeys
  bodies: BodyLogging
}

/** What one MCP server has of its own: the rest is the app's {@link ToolRuntime}. */
interface ServerScope {
  /** The client the server answers: the one whose key opened the session, or sent the stateless request. */
  client: Client | undefined
  log: FastifyBaseLogger
  /** The message log of this server's transport, which tool calls add what they did to. */
  messages: McpMessageLog
}

/**
 * The tools and everything they run with that the whole app shares, built once; each MCP server
 * it makes takes only its client, and each call its request's id and connection
 * (`HttpRequestContext`, through the SDK's per-request context).
 */
export class ToolRuntime {
  readonly #catalog: ToolCatalog
  /** The logging levels 2025-era clients chose (logging/setLevel). */
  readonly logLevels = new ClientLogLevels()

  constructor (private readonly deps: ToolRuntimeDependencies) {
    const { router, metrics, tracer, cache, schemas, downstream, responseOwners, config } = deps
    const services = { router, metrics, tracer, cache, schemas, downstream, responseOwners, settings: config }
    const tools = enabledTools(services)
    this.#catalog = new ToolCatalog(tools)
  }

  /**
   * An MCP server for one client, and the message log its transport will feed; the client's name
   * is on every line they log.
   */
  serverFor (client: Client | undefined): { server: Server, messages: McpMessageLog } {
    const { metrics, tracer, bodies, keys } = this.deps
    const log = client ? this.deps.log.child({ client: client.name }) : this.deps.log
    const messages = new McpMessageLog({ log, metrics, tracer, bodies, keys })
    return { server: createMcpServer(this.deps, this.#catalog, this.logLevels, { client, log, messages }), messages }
  }

  /**
   * An MCP server whose transport the SDK builds and connects itself (a modern-era HTTP
   * exchange's, one per request; the stdio connection's, either era): the server shows that
   * transport to its message log as it connects.
   */
  exchangeServerFor (client: Client | undefined): Server {
    const { server, messages } = this.serverFor(client)
    return watchingEveryTransport(server, messages)
  }
}

/** The tools a configuration offers, indexed once per app rather than once per MCP server. */
class ToolCatalog {
  readonly byName: ReadonlyMap<string, RouterTool>
  readonly definitions: Tool[]
  readonly instructions: string

  constructor (tools: RouterTool[]) {
    this.byName = new Map(tools.map((tool) => [tool.name, tool]))
    this.definitions = tools.map((tool) => tool.definition)
    this.instructions = this.byName.has('read_file') ? `${instructions} ${readFileInstructions}` : instructions
  }
}

const instructions = [
  'This server forwards requests to OpenAI models.',
  'Use `chat` to ask a model (streamed as progress when you send a progress token; it can call your function tools, answer in JSON, look at images, and run long responses in the background),',
  '`get_response` and `cancel_response` for background responses, `embed` for embedding vectors, `generate_image` for images,',
  '`list_models` to see which models exist, and `echo` to test the connection without spending tokens.',
].join(' ')

const readFileInstructions = '`read_file` reads text files from the directory the operator shared.'

/**
 * One JSON Schema validator for every MCP server: left to itself, each Server builds its own Ajv,
 * which costs time and memory on every stateless request and session (docs/performance.md).
 */
const jsonSchemaValidator = new AjvJsonSchemaValidator()

/**
 * A fresh MCP server. In stateless mode the transport layer makes one per HTTP request
 * (neither a Server nor its transport can be reused), in stateful mode one per session.
 */
function createMcpServer (
  deps: ToolRuntimeDependencies,
  catalog: ToolCatalog,
  logLevels: ClientLogLevels,
  { client, log, messages }: ServerScope
): Server {
  const { config, budgets, prices, keys } = deps
  const server = new Server(
    { name: pkg.name, version: pkg.version, title: 'MCP OpenAI Router' },
    {
      // A routing reload can change the models the tools offer (list_models, chat's model descriptions).
      capabilities: { tools: { listChanged: true }, logging: {} },
      instructions: catalog.instructions,
      jsonSchemaValidator,
    }
  )

  // A token without a tool's scope (OAUTH_TOOL_SCOPES) does not see the tool; its calls are refused at the route.
  const toolScopes = config.oauth?.toolScopes
  const tools = toolScopes && client?.scopes
    ? () => catalog.definitions.filter((tool) => missingToolScope(toolScopes, client, tool.name) === undefined)
    : () => catalog.definitions
  server.setRequestHandler('tools/list', () => ({ tools: tools() }))

  // 2025 era only (2026-07-28 has no such method: each request names its level): the router keeps
  // the level itself, since a stateless request's server is gone before the client's next call.
  server.setRequestHandler('logging/setLevel', (request, ctx) => {
    const caller = logLevelOwner(ctx)
    if (caller !== undefined) logLevels.set(caller, request.params.level)
    return {}
  })

  server.setRequestHandler('tools/call', async (request, ctx): Promise<CallToolResult> => {
    const { name, arguments: args } = request.params
    const tool = catalog.byName.get(name)
    if (!tool) {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}. Available tools: ${[...catalog.byName.keys()].join(', ')}.`)
    }
    const http = requestContextOf(ctx.http?.authInfo)
    // Over stdio no HTTP request carries the call: the message log gave it an id of its own (the
    // client's JSON-RPC id may be any string).
    const requestId = http?.requestId ?? messages.requestIdOf(ctx.mcpReq.id) ?? randomUUID()
    const callLog = log.child({ reqId: requestId, tool: name, ...(ctx.sessionId && { sessionId: ctx.sessionId }) })
    const progressToken = request.params._meta?.progressToken
    const result = await runTool(tool, args, {
      requestId,
      signal: ctx.mcpReq.signal,
      client,
      caller: client ? `client:${client.name}` : http?.address !== undefined ? `address:${http.address}` : ANONYMOUS_CLIENT,
      log: callLog,
      record: messages.callRecord(ctx.mcpReq.id, name),
      progress: new CallProgress({
        send: progressToken === undefined
          ? undefined
          : (update) => ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, ...update } }),
        intervalMs: config.PROGRESS_INTERVAL_MS,
        heartbeatMs: config.PROGRESS_HEARTBEAT_MS,
        keys,
        log: callLog,
      }),
      clientLog: new ClientLog(
        logLevelOf(ctx, logLevels),
        (params) => ctx.mcpReq.notify({ method: 'notifications/message', params }),
        callLog
      ),
      budget: new CallBudget(budgets, prices, client),
    }, deps, http?.connection)
    // The protocol revision's own shaping of a result (the SDK does it for its high-level tools).
    return server.projectCallToolResult(result, tool.definition.outputSchema)
  })

  return server
}

/** Whose level a 2025 request's logging/setLevel sets: its session's, or in stateless mode its caller's. */
function logLevelOwner (ctx: ServerContext): string | undefined {
  return ctx.sessionId ? `session:${ctx.sessionId}` : requestContextOf(ctx.http?.authInfo)?.caller
}

/** The level a call logs to its client at: a 2026-07-28 request's own (its envelope), or what the 2025 client set. */
function logLevelOf (ctx: ServerContext, logLevels: ClientLogLevels) {
  if (ctx.mcpReq.envelope) {
    const level = (ctx.mcpReq.envelope as Record<string, unknown>)[LOG_LEVEL_META_KEY]
    return isLoggingLevel(level) ? level : undefined
  }
  return logLevels.get(logLevelOwner(ctx))
}

/**
 * One tool call to its result: failures become `isError` results, never exceptions. Every call
 * is tracked so that shutdown can wait for it, its budget settled to what it spent, and its record
 * completed and counted in the metrics.
 */
async function runTool (
  tool: RouterTool,
  args: unknown,
  scope: CallScope,
  { calls, history, metrics }: Pick<ToolRuntimeDependencies, 'calls' | 'history' | 'metrics'>,
  connection?: AbortSignal
): Promise<CallToolResult> {
  const started = performance.now()
  const call = calls.start(scope.signal, connection)
  const { record } = scope
  record.admitted(scope.client)
  try {
    const result = await tool.call(args, { ...scope, signal: call.signal })
    record.finished(result.isError ? 'tool_error' : 'ok', performance.now() - started)
    return result
  } catch (err) {
    const error = err instanceof ToolError ? err : new ToolError('internal_error', `The router failed while running ${tool.name}. This is a bug in the router, not in your call; the logs have the details.`, { retryable: false })
    // A bug's stack trace goes to the log, and only there; the client gets the message.
    if (error.code === 'internal_error') scope.log.error({ err }, `${tool.name} failed inside the router`)
    record.finished('tool_error', performance.now() - started, error.code)
    return toolErrorResult(error, scope.requestId)
  } finally {
    await scope.budget.settle(record)
    metrics.toolCall(record)
    history.finished(record)
    await scope.progress.finish()
    call.end()
  }
}
