import type { CallToolResult } from '@modelcontextprotocol/server'
import type { Downstream } from '../../../downstream/downstream.js'
import { ToolError } from '../../../errors.js'
import type { ModelRouter } from '../../../routing/model-router.js'
import type { Route } from '../../../routing/routing-table.js'
import type { ResponseCache } from '../../../shared-state/response-cache.js'
import { type ChatRequest, type ChatResult, terminalStatuses } from '../../../upstream/chat-types.js'
import { cachedCall } from '../../cached-call.js'
import type { SchemaChecker } from '../../schemas/schema-checker.js'
import { chatEstimate } from '../../spend-estimates.js'
import { toolErrorResult } from '../../tool-error.js'
import { type CallScope, defineTool, type UpstreamServices } from '../../tool.js'
import { type AgentOptions, runAgentLoop } from './agent-loop.js'
import type { StoredResponses } from './background-response.js'
import { ChatArguments, type ChatArgumentsType, toChatRequest } from './chat-arguments.js'
import { type ChatAnswer, cachedChatAnswers } from './chat-answer.js'
import { ChatOutput, chatToolResult } from './chat-result.js'
import { routedChat } from './routed-chat.js'
import { checkResponseFormat, parseStructuredOutput } from './structured-output.js'

/** What chat uses besides its call's own scope. */
export interface ChatServices {
  router: Pick<ModelRouter, 'table'>
  upstream: UpstreamServices
  responses: StoredResponses
  /** Cached answers; undefined when CACHE_TTL_S is 0. */
  cache: ResponseCache | undefined
  /** Clients' response_format schemas, compiled and checked off the main thread within the SCHEMA_* limits. */
  schemas: SchemaChecker
  /** Downstream MCP servers whose tools chat can run for the model. */
  downstream: Pick<Downstream, 'select'>
  defaults: ChatDefaults
}

export interface ChatDefaults {
  /** The model of a call that names none (MODEL). */
  model: string
  /** The output tokens a chat without max_tokens is assumed to spend (BUDGET_DEFAULT_OUTPUT_TOKENS). */
  outputTokens: number
  /** The most model turns of an agent loop; a call's max_turns can only lower it (AGENT_MAX_TURNS). */
  maxTurns: number
}

export const chatTool = defineTool({
  name: 'chat',
  title: 'Chat with a model',
  description: [
    'Sends one request to an OpenAI (or OpenAI-compatible) model and returns its answer.',
    'Give `prompt` (a single user message) or `messages` (a conversation in OpenAI chat format, images included); with both, `prompt` is added as the last user message.',
    'With a progress token the answer streams as progress notifications. The model can call your `tools`: its calls come back in structuredContent.toolCalls, and you answer them with `tool_outputs` and `previous_response_id`.',
    '`response_format` asks for JSON, returned parsed in structuredContent.json. `background: true` runs long responses detached (see get_response).',
  ].join(' '),
  inputSchema: ChatArguments,
  outputSchema: ChatOutput,
  annotations: { readOnlyHint: true, idempotentHint: false, openWorldHint: true },
  handler: (services: ChatServices) => async (args, call) => {
    const { router, responses, schemas, defaults, downstream } = services
    const routing = router.table
    const { progress } = call
    await checkResponseFormat(schemas, call.caller, args.response_format)
    // Continuing a response reads it back: another client's is as unknown here as in get_response.
    if (args.previous_response_id) await responses.checkOwner(call, args.previous_response_id)
    const route = routing.route(args.model ?? defaults.model, call.client)
    const [first] = route.targets
    const request = toChatRequest(args, first.provider.config.api, route.requested)
    if (args.previous_response_id) await responses.chargeContinued(call, first.provider, args.previous_response_id)
    // An agent loop reserves its first turn; what the later turns spend is charged as they end.
    await call.budget.reserve(chatEstimate(request, first.model, defaults.outputTokens))
    // A background response is polled, not streamed: its text arrives all at once.
    const onText = progress.wanted && !request.background ? (delta: string) => progress.text(delta) : undefined
    if (args.use_tools || args.agent) {
      const functions = downstream.select(args.agent ? 'all' : args.use_tools ?? [])
      const maxTurns = Math.min(args.max_turns ?? DEFAULT_MAX_TURNS, defaults.maxTurns)
      return agentChat(services, call, route, request, { functions, maxTurns, timeoutMs: args.timeout_ms, onText })
    }
    return singleChat(services, call, route, request, args, onText)
  },
})

const DEFAULT_MAX_TURNS = 8

type ChatStep = Pick<ChatServices, 'upstream' | 'responses' | 'schemas'>

/** A chat whose model may call downstream tools, which the router runs for it, turn after turn. */
async function agentChat (
  { upstream, responses, schemas }: ChatStep,
  call: CallScope,
  route: Route,
  request: ChatRequest,
  options: AgentOptions
): Promise<CallToolResult> {
  const run = await runAgentLoop(upstream, call, route, request, options)
  // The router-owned calls of a loop stopped at max_turns were never run: nothing for the client to do with them.
  const result = { ...run.result, usage: run.usage, ...(!run.completed && { toolCalls: [] }) }
  const toolResult = chatToolResult({
    result,
    api: run.target.provider.config.api,
    routing: call.record.routing(),
    json: run.completed ? await jsonAnswer(schemas, call, request, result) : undefined,
    droppedParameters: run.dropped,
    trace: run.trace,
  })
  await responses.claim(call, result.responseId)
  return run.completed ? toolResult : stoppedAtMaxTurns(toolResult, options.maxTurns, call.requestId)
}

/** One model answer, from the response cache when it holds an exact repeat. */
async function singleChat (
  { upstream, responses, schemas, cache }: ChatStep & Pick<ChatServices, 'cache'>,
  call: CallScope,
  route: Route,
  request: ChatRequest,
  args: Pick<ChatArgumentsType, 'cache' | 'temperature' | 'timeout_ms'>,
  onText: ((delta: string) => void) | undefined
): Promise<CallToolResult> {
  const { record, budget } = call
  const [target] = route.targets
  const { answer, cache: outcome } = await cachedCall(cache, record, {
    answers: cachedChatAnswers,
    mode: args.cache,
    deterministic: args.temperature === 0,
    // Keyed by the route's first target, whichever target answered: the same request finds it again.
    request: { tool: 'chat', provider: target.provider.name, model: target.model, api: target.provider.config.api, request },
    // Background responses are fetched later, and cut-off answers are partial: neither is kept.
    complete: ({ result }) => !request.background && result.status === 'completed',
    replay: ({ result }) => onText?.(result.text),
  }, async (): Promise<ChatAnswer> => {
    const operation = `chat with ${request.model}`
    const options = { operation, timeoutMs: args.timeout_ms, onText }
    const answer = await routedChat(upstream, call, route, request, options)
    let { result } = answer
    if (request.background) {
      result = await responses.waitFor(call, answer.target.provider, result, { cancelIfAbandoned: true })
      // Still running: what it spends is known only when it is fetched finished, and charged then.
      if (!terminalStatuses.has(result.status)) await budget.defer(result.responseId)
    }
    record.answered(result.model, result.usage)
    const json = await jsonAnswer(schemas, call, request, result)
    const api = answer.target.provider.config.api
    return { result, api, routing: record.routing(), json, droppedParameters: answer.dropped }
  })
  await responses.claim(call, answer.result.responseId)
  return chatToolResult(answer, outcome)
}

/** The parsed answer, when the call asked for JSON and the model answered in text. */
async function jsonAnswer (schemas: SchemaChecker, { caller }: Pick<CallScope, 'caller'>, request: ChatRequest, result: ChatResult): Promise<unknown> {
  const answered = result.status === 'completed' || result.status === 'incomplete'
  return request.responseFormat && answered && result.toolCalls.length === 0
    ? parseStructuredOutput(schemas, caller, result.text, request.responseFormat, result.finishReason)
    : undefined
}
/** The partial answer of a loop the model did not finish within max_turns: an error, with the trace. */
function stoppedAtMaxTurns (partial: CallToolResult, maxTurns: number, requestId: string): CallToolResult {
  const error = new ToolError('max_turns', `The model was still calling tools after ${maxTurns} turns (max_turns), so the loop stopped; the answer so far and the trace are in the result. Allow more turns, or ask for less.`, { retryable: false })
  const failure = toolErrorResult(error, requestId)
  return {
    ...partial,
    isError: true,
    content: [...partial.content, ...failure.content],
    ...(failure._meta && { _meta: failure._meta }),
  }
}
