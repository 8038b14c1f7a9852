import { Type } from '@sinclair/typebox'
import type { DownstreamFunction } from '../../../downstream/downstream.js'
import type { Route, RouteTarget } from '../../../routing/routing-table.js'
import { JsonValue } from '../../../schemas.js'
import type { ChatMessage, ChatRequest, ChatResult, FunctionCall, TokenUsage } from '../../../upstream/chat-types.js'
import { cancelledError } from '../../../upstream/errors.js'
import type { CallScope, UpstreamServices } from '../../tool.js'
import { routedChat } from './routed-chat.js'

/** `structuredContent.trace` of a chat that ran downstream tools: what happened in each turn. */
export const AgentTrace = Type.Array(Type.Object({
  turn: Type.Integer(),
  model: Type.String(),
  durationMs: Type.Integer(),
  usage: Type.Optional(Type.Object({
    inputTokens: Type.Integer(),
    outputTokens: Type.Integer(),
    totalTokens: Type.Integer(),
  })),
  toolCalls: Type.Array(Type.Object({
    id: Type.String(),
    name: Type.String(),
    arguments: JsonValue(),
    durationMs: Type.Integer(),
    outcome: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
    error: Type.Optional(Type.String()),
  })),
}), { description: 'use_tools/agent: per model turn, the downstream tool calls the router ran, with their outcomes.' })

export type AgentTurn = (typeof AgentTrace)['static'][number]
type TracedCall = AgentTurn['toolCalls'][number]

export interface AgentRun {
  /** The last turn's answer. */
  result: ChatResult
  /** Where the last turn's answer came from. */
  target: RouteTarget
  /** Parameters the last turn's model refused. */
  dropped: string[]
  trace: AgentTurn[]
  /** Tokens of every turn together. */
  usage: TokenUsage
  /** False when the model was still calling tools at `maxTurns`. */
  completed: boolean
}

export interface AgentOptions {
  functions: Map<string, DownstreamFunction>
  maxTurns: number
  timeoutMs: number | undefined
  onText: ((delta: string) => void) | undefined
}

/**
 * The server-side tool loop: ask the model; when it calls only downstream tools, run them (in
 * parallel), hand it their outputs and ask again, up to `maxTurns`. A call to a function the
 * router does not own ends the loop, and goes back to the client as in a plain chat.
 */
export async function runAgentLoop (
  upstream: UpstreamServices,
  scope: CallScope,
  route: Route,
  first: ChatRequest,
  { functions, maxTurns, timeoutMs, onText }: AgentOptions
): Promise<AgentRun> {
  const { progress, record, clientLog } = scope
  const downstreamTools = [...functions.values()].map((fn) => fn.definition)
  let request: ChatRequest = { ...first, tools: [...(first.tools ?? []), ...downstreamTools] }
  const trace: AgentTurn[] = []
  const usage: TokenUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 }
  for (let turn = 1; ; turn++) {
    progress.status(`turn ${turn}: asking ${request.model}`)
    clientLog.write('info', `turn ${turn}: asking ${request.model}`, { turn, model: request.model })
    const started = performance.now()
    const current = request
    const operation = `chat with ${current.model} (turn ${turn})`
    const options = { operation, timeoutMs, onText }
    const { result, target, dropped } = await routedChat(upstream, scope, route, current, options)
    record.answered(result.model, result.usage)
    for (const key of ['inputTokens', 'outputTokens', 'totalTokens'] as const) usage[key] += result.usage?.[key] ?? 0
    const ownsEveryCall = result.toolCalls.length > 0 && result.toolCalls.every((call) => functions.has(call.name))
    const turnTrace = { turn, model: result.model, ...(result.usage && { usage: result.usage }) }
    if (!ownsEveryCall || turn >= maxTurns) {
      trace.push({ ...turnTrace, durationMs: elapsed(started), toolCalls: [] })
      return { result, target, dropped, trace, usage, completed: !ownsEveryCall }
    }
    const outputs = await Promise.all(result.toolCalls.map(async (call) =>
      runDownstreamCall(scope, turn, call, functions.get(call.name) as DownstreamFunction)))
    for (const { traced } of outputs) clientLog.write('info', `turn ${turn}: ${traced.name} ${traced.outcome === 'ok' ? 'answered' : `failed: ${traced.error ?? 'error'}`}`, { turn, tool: traced.name, outcome: traced.outcome, durationMs: traced.durationMs })
    trace.push({ ...turnTrace, durationMs: elapsed(started), toolCalls: outputs.map(({ traced }) => traced) })
    const answered = outputs.map(({ output }, index) => ({ call: result.toolCalls[index] as FunctionCall, output }))
    request = nextTurn(current, result, answered)
  }
}

/**
 * One downstream call the model asked for. Its failure is the tool's output, for the model to
 * read and recover from; only cancellation stops the loop.
 */
async function runDownstreamCall (
  { progress, signal, log }: Pick<CallScope, 'progress' | 'signal' | 'log'>,
  turn: number,
  call: FunctionCall,
  fn: DownstreamFunction
): Promise<{ output: string, traced: TracedCall }> {
  progress.status(`turn ${turn}: running ${call.name}`)
  const started = performance.now()
  let args: Record<string, unknown> | undefined
  const failed = (error: string) => ({ output: `Error: ${error}`, traced: { id: call.id, name: call.name, arguments: args ?? call.arguments, durationMs: elapsed(started), outcome: 'error' as const, error } })
  try {
    const parsed: unknown = call.arguments ? JSON.parse(call.arguments) : {}
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return failed('the arguments must be a JSON object')
    args = parsed as Record<string, unknown>
  } catch {
    return failed('the arguments are not valid JSON')
  }
  try {
    const result = await fn.server.call(fn.tool, args, signal)
    const text = result.content.flatMap((block) => block.type === 'text' ? [block.text] : []).join('\n')
    const output = text || JSON.stringify(result.structuredContent ?? result.content)
    log.debug({ downstream: fn.server.name, tool: fn.tool, durationMs: elapsed(started), isError: result.isError === true }, 'downstream tool call finished')
    if (result.isError) return failed(output)
    return { output, traced: { id: call.id, name: call.name, arguments: args, durationMs: elapsed(started), outcome: 'ok' } }
  } catch (err) {
    if (signal.aborted) throw cancelledError(`running ${call.name}`, signal)
    return failed(err instanceof Error ? err.message : String(err))
  }
}

/** The next request: the conversation so far, the model's calls, and their outputs. */
function nextTurn (
  request: ChatRequest,
  result: ChatResult,
  outputs: Array<{ call: FunctionCall, output: string }>
): ChatRequest {
  const { toolOutputs, ...rest } = request
  const messages: ChatMessage[] = [
    ...request.messages,
    // The client's own outputs came after its messages; in the history they keep that place.
    ...(toolOutputs ?? []).map(({ callId, output }): ChatMessage => ({ role: 'tool', toolCallId: callId, content: output })),
    { role: 'assistant', content: result.text, toolCalls: result.toolCalls },
    ...outputs.map(({ call, output }): ChatMessage => ({ role: 'tool', toolCallId: call.id, content: output })),
  ]
  return { ...rest, messages }
}

function elapsed (started: number): number {
  return Math.round(performance.now() - started)
}
