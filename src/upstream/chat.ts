import type OpenAI from 'openai'
import { createChatCompletion } from './chat-completions-api.js'
import type { ChatCallContext, ChatRequest, ChatResult, UpstreamApi } from './chat-types.js'
import { modelTraits } from './model-family.js'
import { createResponse } from './responses-api.js'

export async function createChat (openai: OpenAI, api: UpstreamApi, request: ChatRequest, context: ChatCallContext): Promise<ChatResult> {
  return api === 'chat_completions'
    ? createChatCompletion(openai, request, context)
    : createResponse(openai, request, context)
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
