import type OpenAI from 'openai'
import { createChatCompletion } from './chat-completions-api.js'
import type { ChatCallContext, ChatRequest, ChatResult, UpstreamApi } from './chat-types.js'
import { invalidResponse } from './errors.js'
import { modelTraits } from './model-family.js'
import { createResponse } from './responses-api.js'

export async function createChat (
  openai: OpenAI,
  api: UpstreamApi,
  request: ChatRequest,
  context: ChatCallContext
): Promise<ChatResult> {
  const result = api === 'chat_completions'
    ? await createChatCompletion(openai, request, context)
    : await createResponse(openai, request, context)
  return withCompleteToolCalls(result, api)
}

/**
 * The result, once every tool call in it can be answered: a call without its id (which the
 * output must name), its name or its arguments, or an answer that stops to call tools with none
 * that survived reading (Chat Completions' `finish_reason: "tool_calls"`; a streamed fragment
 * without its `index`), is the upstream's malformed answer, reported naming what is missing
 * rather than handed over as a call that cannot be answered or no call at all.
 */
function withCompleteToolCalls (result: ChatResult, api: UpstreamApi): ChatResult {
  const { idField, apiName } = api === 'chat_completions' ? { idField: 'id', apiName: 'Chat Completions' } : { idField: 'call_id', apiName: 'Responses API' }
  // Array.from: a streamed answer whose fragments skipped an index leaves a hole.
  for (const [index, call] of Array.from(result.toolCalls).entries()) {
    const missing = [
      !call?.id && `\`${idField}\``,
      !call?.name && '`name`',
      typeof call?.arguments !== 'string' && '`arguments`',
    ].filter((field) => field !== false)
    if (missing.length > 0) throw invalidResponse(`a ${apiName} tool call (index ${index}${call?.name ? `, "${call.name.slice(0, 64)}"` : ''}) without ${missing.join(', ')}`)
  }
  if (result.finishReason === 'tool_calls' && result.toolCalls.length === 0) {
    throw invalidResponse(`a ${apiName} answer that stops to call tools (finish_reason "tool_calls") without a tool call it could read (each needs \`${idField}\`, \`type\`, \`function.name\` and \`function.arguments\`, and streamed, an \`index\`)`)
  }
  return result
}

/**
 * The request without the parameters its model family refuses (see {@link modelTraits}),
 * and the names of those left out, so the caller can be told.
 */
export function withoutUnsupportedParameters (request: ChatRequest): { request: ChatRequest, dropped: string[] } {
  const traits = modelTraits(request.model)
  const refused: Array<[keyof ChatRequest, string, boolean]> = [
    ['temperature', 'temperature', traits.acceptsSampling],
    ['topP', 'top_p', traits.acceptsSampling],
    ['reasoningEffort', 'reasoning_effort', traits.acceptsReasoningEffort],
    ['verbosity', 'verbosity', traits.acceptsVerbosity],
  ]
  const kept = { ...request }
  const dropped: string[] = []
  for (const [field, name, accepted] of refused) {
    if (!accepted && kept[field] !== undefined) {
      delete kept[field]
      dropped.push(name)
    }
  }
  return { request: kept, dropped }
}
