import type { CallToolResult } from '@modelcontextprotocol/server'
import { ToolError } from '../../../errors.js'
import { type ChatRequest, type ChatResult, terminalStatuses } from '../../../upstream/chat-types.js'
import { cachedCall } from '../../cached-call.js'
import { toolErrorResult } from '../../tool-error.js'
import { chatEstimate } from '../../spend-estimates.js'
import { defineTool, type ToolContext } from '../../tool.js'
import { runAgentLoop } from './agent-loop.js'
import { chargeContinuedResponse, checkResponseOwner, claimResponse, waitForResponse } from './background-response.js'
import { ChatArguments, toChatRequest } from './chat-arguments.js'
import { type ChatAnswer, cachedChatAnswers } from './chat-answer.js'
import { ChatOutput, chatToolResult } from './chat-result.js'
import { routedChat } from './routed-chat.js'
import { checkResponseFormat, parseStructuredOutput } from './structured-output.js'

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
  async run (args, context) {
    const { config, requestId, progress, record } = context
    await checkResponseFormat(context.schemas, context.caller, args.response_format)
    // Continuing a response reads it back: another client's is as unknown here as in get_response.
    if (args.previous_response_id) await checkResponseOwner(context, args.previous_response_id)
    const route = context.routing.route(args.model ?? config.MODEL, context.client)
    const request = toChatRequest(args, route.targets[0].provider.config.api, route.requested)
    if (args.previous_response_id) await chargeContinuedResponse(context, route.targets[0].provider, args.previous_response_id)
    // An agent loop reserves its first turn; what the later turns spend is charged as they end.
    await context.budget.reserve(chatEstimate(request, route.targets[0].model, config.BUDGET_DEFAULT_OUTPUT_TOKENS))
    // A background response is polled, not streamed: its text arrives all at once.
    const onText = progress.wanted && !request.background ? (delta: string) => progress.text(delta) : undefined
    if (args.use_tools || args.agent) {
      const functions = context.downstream.select(args.agent ? 'all' : args.use_tools ?? [])
      const maxTurns = Math.min(args.max_turns ?? DEFAULT_MAX_TURNS, config.AGENT_MAX_TURNS)
      const run = await runAgentLoop(context, route, request, { functions, maxTurns, timeoutMs: args.timeout_ms, onText })
      // The router-owned calls of a loop stopped at max_turns were never run: nothing for the client to do with them.
      const result = { ...run.result, usage: run.usage, ...(!run.completed && { toolCalls: [] }) }
      const toolResult = chatToolResult({
        result,
        api: run.target.provider.config.api,
        routing: record.routing(),
        json: run.completed ? await jsonAnswer(context, request, result) : undefined,
        droppedParameters: run.dropped,
        trace: run.trace,
      })
      await claimResponse(context, result.responseId)
      return run.completed ? toolResult : stoppedAtMaxTurns(toolResult, maxTurns, requestId)
    }
    const target = route.targets[0]
    const { answer, cache } = await cachedCall(context, {
      answers: cachedChatAnswers,
      mode: args.cache,
      deterministic: args.temperature === 0,
      // Keyed by the route's first target, whichever target answered: the same request finds it again.
      request: { tool: 'chat', provider: target.provider.name, model: target.model, api: target.provider.config.api, request },
      // Background responses are fetched later, and cut-off answers are partial: neither is kept.
      complete: ({ result }) => !request.background && result.status === 'completed',
      replay: ({ result }) => onText?.(result.text),
    }, async (): Promise<ChatAnswer> => {
      const answer = await routedChat(context, route, request, { operation: `chat with ${request.model}`, timeoutMs: args.timeout_ms, onText })
      let { result } = answer
      if (request.background) {
        result = await waitForResponse(context, answer.target.provider, result, { cancelIfAbandoned: true })
        // Still running: what it spends is known only when it is fetched finished, and charged then.
        if (!terminalStatuses.has(result.status)) await context.budget.defer(result.responseId)
      }
      record.answered(result.model, result.usage)
      const json = await jsonAnswer(context, request, result)
      return { result, api: answer.target.provider.config.api, routing: record.routing(), json, droppedParameters: answer.dropped }
    })
    await claimResponse(context, answer.result.responseId)
    return chatToolResult(answer, cache)
  },
})

const DEFAULT_MAX_TURNS = 8

/** The parsed answer, when the call asked for JSON and the model answered in text. */
async function jsonAnswer ({ schemas, caller }: Pick<ToolContext, 'schemas' | 'caller'>, request: ChatRequest, result: ChatResult): Promise<unknown> {
  const answered = result.status === 'completed' || result.status === 'incomplete'
  return request.responseFormat && answered && result.toolCalls.length === 0
    ? parseStructuredOutput(schemas, caller, result.text, request.responseFormat, result.finishReason)
    : undefined
}

/** The partial answer of a loop the model did not finish within max_turns: an error, with the trace. */
function stoppedAtMaxTurns (partial: CallToolResult, maxTurns: number, requestId: string): CallToolResult {
  const error = new ToolError('max_turns', `The model was still calling tools after ${maxTurns} turns (max_turns), so the loop stopped; the answer so far and the trace are in the result. Allow more turns, or ask for less.`, { retryable: false })
  const failure = toolErrorResult(error, requestId)
  return { ...partial, isError: true, content: [...partial.content, ...failure.content], ...(failure._meta && { _meta: failure._meta }) }
}
