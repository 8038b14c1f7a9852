import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { CallToolRequestSchema, type CallToolResult, type CreateTaskResult, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js'
import type { FastifyBaseLogger } from 'fastify'
import type OpenAI from 'openai'
import pkg from '../../package.json' with { type: 'json' }
import type { RouterConfig } from '../../plugins/config.js'
import { REQUEST_ID_HEADER } from '../../plugins/request-id.js'
import { CallProgress } from './progress.js'
import type { RouterTool, ToolContext } from './tool.js'
import { ToolError, toolErrorResult } from './tool-error.js'
import type { ToolTasks } from './tool-tasks.js'
import { tools } from './tools/index.js'

/** The header through which the HTTP layer names the connection that carried a request. */
export const CONNECTION_KEY_HEADER = 'x-mcp-router-connection'

/** Lets shutdown wait for running tool calls, and stop them when the grace period is over. */
export interface CallTracker {
  start: (clientSignal: AbortSignal) => { signal: AbortSignal, end: () => void }
}

export interface McpServerDependencies {
  openai: OpenAI
  config: RouterConfig
  log: FastifyBaseLogger
  calls: CallTracker
  tasks: ToolTasks
  /** Aborted when the HTTP connection that carried the request (by its connection key) closes before its answer. */
  connectionSignal: (connectionKey: string) => AbortSignal | undefined
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
export function createMcpServer ({ openai, config, log, calls, tasks, connectionSignal }: McpServerDependencies): Server {
  const server = new Server(
    { name: pkg.name, version: pkg.version, title: 'MCP OpenAI Router' },
    {
      capabilities: {
        tools: { listChanged: false },
        tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } },
      },
      instructions,
      taskStore: tasks,
    }
  )

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: toolDefinitions }))

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult | CreateTaskResult> => {
    const { name, arguments: args, task: taskParams } = request.params
    const tool = toolsByName.get(name)
    if (!tool) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}. Available tools: ${[...toolsByName.keys()].join(', ')}.`)
    }
    const requestId = String(extra.requestInfo?.headers[REQUEST_ID_HEADER] ?? extra.requestId)
    const callLog = log.child({ reqId: requestId, tool: name, ...(extra.sessionId && { sessionId: extra.sessionId }) })
    const context = { openai, config, requestId, waitLimitMs: config.POLL_MAX_MS }

    if (taskParams && tool.taskSupport) {
      const task = await tasks.createTask({ ttl: taskParams.ttl ?? null, pollInterval: config.POLL_INTERVAL_MS }, extra.requestId, request, extra.sessionId)
      const taskLog = callLog.child({ taskId: task.taskId })
      // The work outlives this request: tasks/result (maybe on another request) reads it from the store.
      tasks.run(task, extra.sessionId, (signal) => runTool(tool, args, {
        ...context,
        log: taskLog,
        signal,
        waitLimitMs: task.ttl ?? config.POLL_MAX_MS,
        progress: new CallProgress({ send: undefined, intervalMs: 0, heartbeatMs: 0, log: taskLog }),
      }, calls), (err) => taskLog.error({ err }, 'task result could not be stored'))
      taskLog.info({ ttlMs: task.ttl }, 'tool call running as a task')
      return { task }
    }

    const connectionKey = extra.requestInfo?.headers[CONNECTION_KEY_HEADER]
    const connection = typeof connectionKey === 'string' ? connectionSignal(connectionKey) : undefined
    const progressToken = request.params._meta?.progressToken
    return runTool(tool, args, {
      ...context,
      log: callLog,
      signal: connection ? AbortSignal.any([extra.signal, connection]) : extra.signal,
      progress: new CallProgress({
        send: progressToken === undefined
          ? undefined
          : (update) => extra.sendNotification({ method: 'notifications/progress', params: { progressToken, ...update } }),
        intervalMs: config.PROGRESS_INTERVAL_MS,
        heartbeatMs: config.PROGRESS_HEARTBEAT_MS,
        log: callLog,
      }),
    }, calls)
  })

  return server
}

/**
 * One tool call to its result: failures become `isError` results, never exceptions, and every
 * call is logged once and tracked so that shutdown can wait for it.
 */
async function runTool (tool: RouterTool, args: unknown, context: ToolContext, calls: CallTracker): Promise<CallToolResult> {
  const started = performance.now()
  const call = calls.start(context.signal)
  const { log: callLog } = context
  try {
    const result = await tool.call(args, { ...context, signal: call.signal })
    callLog.info({ durationMs: elapsed(started), outcome: result.isError ? 'tool_error' : 'ok' }, 'tool call finished')
    return result
  } catch (err) {
    const error = err instanceof ToolError ? err : new ToolError('internal_error', `The router failed while running ${tool.name}. This is a bug in the router, not in your call; the logs have the details.`, { retryable: false })
    const level = error.code === 'internal_error' ? 'error' : 'warn'
    callLog[level]({ durationMs: elapsed(started), outcome: 'tool_error', errorCode: error.code, ...(level === 'error' && { err }) }, `tool call failed: ${error.message}`)
    return toolErrorResult(error, context.requestId)
  } finally {
    await context.progress.finish()
    call.end()
  }
}

function elapsed (started: number): number {
  return Math.round(performance.now() - started)
}
