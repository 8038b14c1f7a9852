import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { CallToolRequestSchema, type CallToolResult, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js'
import type { FastifyBaseLogger } from 'fastify'
import type OpenAI from 'openai'
import pkg from '../../package.json' with { type: 'json' }
import type { RouterConfig } from '../../plugins/config.js'
import { REQUEST_ID_HEADER } from '../../plugins/request-id.js'
import { CallProgress } from './progress.js'
import { ToolError, toolErrorResult } from './tool-error.js'
import { tools } from './tools/index.js'

/** Lets shutdown wait for running tool calls, and stop them when the grace period is over. */
export interface CallTracker {
  start: (clientSignal: AbortSignal) => { signal: AbortSignal, end: () => void }
}

export interface McpServerDependencies {
  openai: OpenAI
  config: RouterConfig
  log: FastifyBaseLogger
  calls: CallTracker
  /** Aborted when the HTTP connection that carried the request (by router request id) closes before its answer. */
  connectionSignal: (requestId: string) => AbortSignal | undefined
}

const toolsByName = new Map(tools.map((tool) => [tool.name, tool]))
const toolDefinitions = tools.map((tool) => tool.definition)

const instructions = [
  'This server forwards requests to OpenAI models.',
  'Use `chat` to ask a model (streamed as progress when you send a progress token; it can call your function tools, answer in JSON, look at images, and run long responses in the background),',
  '`get_response` and `cancel_response` for background responses, `embed` for embedding vectors, `generate_image` for images,',
  '`list_models` to see which models exist, and `echo` to test the connection without spending tokens.',
].join(' ')

/**
 * A fresh MCP server. In stateless mode the transport layer makes one per HTTP request
 * (neither a Server nor its transport can be reused), in stateful mode one per session.
 */
export function createMcpServer ({ openai, config, log, calls, connectionSignal }: McpServerDependencies): Server {
  const server = new Server(
    { name: pkg.name, version: pkg.version, title: 'MCP OpenAI Router' },
    { capabilities: { tools: { listChanged: false } }, instructions }
  )

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: toolDefinitions }))

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name, arguments: args } = request.params
    const tool = toolsByName.get(name)
    if (!tool) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}. Available tools: ${[...toolsByName.keys()].join(', ')}.`)
    }
    const requestId = String(extra.requestInfo?.headers[REQUEST_ID_HEADER] ?? extra.requestId)
    const callLog = log.child({ reqId: requestId, tool: name, ...(extra.sessionId && { sessionId: extra.sessionId }) })
    const started = performance.now()
    const connection = connectionSignal(requestId)
    const call = calls.start(connection ? AbortSignal.any([extra.signal, connection]) : extra.signal)
    const progressToken = request.params._meta?.progressToken
    const progress = new CallProgress({
      send: progressToken === undefined
        ? undefined
        : (update) => extra.sendNotification({ method: 'notifications/progress', params: { progressToken, ...update } }),
      intervalMs: config.PROGRESS_INTERVAL_MS,
      heartbeatMs: config.PROGRESS_HEARTBEAT_MS,
      log: callLog,
    })
    try {
      const result = await tool.call(args, { openai, config, log: callLog, requestId, signal: call.signal, progress })
      callLog.info({ durationMs: elapsed(started), outcome: 'ok' }, 'tool call finished')
      return result
    } catch (err) {
      const error = err instanceof ToolError ? err : new ToolError('internal_error', `The router failed while running ${name}. This is a bug in the router, not in your call; the logs have the details.`, { retryable: false })
      const level = error.code === 'internal_error' ? 'error' : 'warn'
      callLog[level]({ durationMs: elapsed(started), outcome: 'tool_error', errorCode: error.code, ...(level === 'error' && { err }) }, `tool call failed: ${error.message}`)
      return toolErrorResult(error, requestId)
    } finally {
      await progress.finish()
      call.end()
    }
  })

  return server
}

function elapsed (started: number): number {
  return Math.round(performance.now() - started)
}
