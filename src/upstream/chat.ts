import type OpenAI from 'openai'
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions'
import type { Response, ResponseCreateParamsNonStreaming, ResponseInputItem } from 'openai/resources/responses/responses'
import { ToolError } from '../mcp/tool-error.js'
import { type UpstreamRequestContext, upstreamRequestOptions } from './request-options.js'

export type UpstreamApi = 'responses' | 'chat_completions'

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant'
  content: string
}

export interface ChatRequest {
  model: string
  messages: ChatMessage[]
  /** A leading instruction (Responses `instructions`, a first system message on Chat Completions). */
  instructions?: string
  temperature?: number
  topP?: number
  maxOutputTokens?: number
}

export interface TokenUsage {
  inputTokens: number
  outputTokens: number
  totalTokens: number
}

/** One answer, the same shape whichever upstream API produced it. */
export interface ChatResult {
  model: string
  text: string
  /** Chat Completions vocabulary for both APIs: `stop`, `length`, `content_filter`, `tool_calls`, ... */
  finishReason: string
  usage?: TokenUsage
  responseId: string
}

export async function createChat (openai: OpenAI, api: UpstreamApi, request: ChatRequest, context: UpstreamRequestContext): Promise<ChatResult> {
  const options = upstreamRequestOptions(context)
  if (api === 'chat_completions') {
    return fromChatCompletion(await openai.chat.completions.create(toChatCompletionParams(request), options))
  }
  return fromResponse(await openai.responses.create(toResponseParams(request), options))
}

function toResponseParams (request: ChatRequest): ResponseCreateParamsNonStreaming {
  const input: ResponseInputItem[] = request.messages.map(({ role, content }) => ({ type: 'message', role, content }))
  return {
    model: request.model,
    input,
    ...(request.instructions !== undefined && { instructions: request.instructions }),
    ...(request.temperature !== undefined && { temperature: request.temperature }),
    ...(request.topP !== undefined && { top_p: request.topP }),
    ...(request.maxOutputTokens !== undefined && { max_output_tokens: request.maxOutputTokens }),
  }
}

function toChatCompletionParams (request: ChatRequest): ChatCompletionCreateParamsNonStreaming {
  const messages: ChatCompletionMessageParam[] = request.messages.map(({ role, content }) => ({ role, content }))
  if (request.instructions !== undefined) messages.unshift({ role: 'system', content: request.instructions })
  return {
    model: request.model,
    messages,
    ...(request.temperature !== undefined && { temperature: request.temperature }),
    ...(request.topP !== undefined && { top_p: request.topP }),
    // `max_tokens` rather than `max_completion_tokens`: the one every OpenAI-compatible server knows.
    ...(request.maxOutputTokens !== undefined && { max_tokens: request.maxOutputTokens }),
  }
}

function fromResponse (response: Response): ChatResult {
  if (!Array.isArray(response?.output)) throw invalidResponse('a Responses API answer without `output`')
  if (response.status === 'failed') {
    throw new ToolError('upstream_unavailable', `The upstream could not produce an answer: ${response.error?.message ?? 'the response failed'}. Retry shortly.`, { retryable: true })
  }
  const text = response.output
    .flatMap((item) => item.type === 'message' ? item.content : [])
    .map((part) => part.type === 'output_text' ? part.text : '')
    .join('')
  return {
    model: response.model,
    text,
    finishReason: responseFinishReason(response),
    ...(response.usage && {
      usage: { inputTokens: response.usage.input_tokens, outputTokens: response.usage.output_tokens, totalTokens: response.usage.total_tokens },
    }),
    responseId: response.id,
  }
}

function responseFinishReason (response: Response): string {
  if (response.status !== 'incomplete') {
    return response.output.some((item) => item.type === 'function_call') ? 'tool_calls' : 'stop'
  }
  const reason = response.incomplete_details?.reason
  return reason === 'max_output_tokens' ? 'length' : reason ?? 'incomplete'
}

function fromChatCompletion (completion: ChatCompletion): ChatResult {
  const choice = completion?.choices?.[0]
  if (!choice) throw invalidResponse('a Chat Completions answer without `choices`')
  return {
    model: completion.model,
    text: choice.message?.content ?? '',
    finishReason: choice.finish_reason ?? 'stop',
    ...(completion.usage && {
      usage: { inputTokens: completion.usage.prompt_tokens, outputTokens: completion.usage.completion_tokens, totalTokens: completion.usage.total_tokens },
    }),
    responseId: completion.id,
  }
}

function invalidResponse (what: string): ToolError {
  return new ToolError('upstream_invalid_response', `The upstream sent ${what}; it may not be OpenAI-compatible for this API (UPSTREAM_API).`, { retryable: false })
}
