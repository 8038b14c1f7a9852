import type OpenAI from 'openai'
import type { Response, ResponseCreateParamsNonStreaming, ResponseInputContent, ResponseInputItem } from 'openai/resources/responses/responses'
import { ToolError } from '../errors.js'
import { checkedResponse, jsonAnswer } from './answer-shapes.js'
import type { ChatCallContext, ChatMessage, ChatRequest, ChatResult, ContentPart, FunctionCall, ResponseStatus } from './chat-types.js'
import { streamInterrupted } from './errors.js'
import { upstreamRequestOptions, type UpstreamRequestContext } from './request-options.js'
import { readEventStream } from './server-sent-events.js'
import { reportedUsage } from './token-usage.js'

/** One call to `POST /responses`, streamed when the context asks for text as it arrives. */
export async function createResponse (
  openai: OpenAI,
  request: ChatRequest,
  context: ChatCallContext
): Promise<ChatResult> {
  const params = toResponseParams(request)
  const options = upstreamRequestOptions(context)
  const { onText } = context
  if (!onText) return fromResponse(await jsonAnswer(openai.responses.create(params, options)))

  const response = await openai.responses.create({ ...params, stream: true }, options).asResponse()
  let received = 0
  let result: ChatResult | undefined
  try {
    result = await readEventStream(response, (event) => {
      switch (event.type) {
        case 'response.output_text.delta':
        case 'response.refusal.delta': {
          const delta = event.delta as string
          received += delta.length
          onText(delta)
          return undefined
        }
        case 'response.completed':
        case 'response.incomplete':
        case 'response.failed':
          return fromResponse(event.response)
      }
      return undefined
    })
  } catch (err) {
    throw streamInterrupted(err, received, context.signal)
  }
  if (result) return result
  throw streamInterrupted(new Error('the stream ended before the response completed'), received, context.signal)
}

export async function retrieveResponse (
  openai: OpenAI,
  responseId: string,
  context: UpstreamRequestContext
): Promise<ChatResult> {
  return fromResponse(await jsonAnswer(openai.responses.retrieve(responseId, {}, upstreamRequestOptions(context))))
}

export async function cancelResponse (
  openai: OpenAI,
  responseId: string,
  context: UpstreamRequestContext
): Promise<ChatResult> {
  return fromResponse(await jsonAnswer(openai.responses.cancel(responseId, upstreamRequestOptions(context))))
}

function toResponseParams (request: ChatRequest): ResponseCreateParamsNonStreaming {
  const input: ResponseInputItem[] = request.messages.flatMap(toInputItems)
  for (const { callId, output } of request.toolOutputs ?? []) input.push({ type: 'function_call_output', call_id: callId, output })
  const text = {
    ...(request.responseFormat && { format: request.responseFormat }),
    ...(request.verbosity && { verbosity: request.verbosity }),
  }
  return {
    model: request.model,
    input,
    ...(request.instructions !== undefined && { instructions: request.instructions }),
    ...(request.temperature !== undefined && { temperature: request.temperature }),
    ...(request.topP !== undefined && { top_p: request.topP }),
    ...(request.maxOutputTokens !== undefined && { max_output_tokens: request.maxOutputTokens }),
    ...(request.tools && { tools: request.tools as ResponseCreateParamsNonStreaming['tools'] }),
    ...(request.toolChoice && { tool_choice: request.toolChoice }),
    ...(request.parallelToolCalls !== undefined && { parallel_tool_calls: request.parallelToolCalls }),
    ...(request.previousResponseId && { previous_response_id: request.previousResponseId }),
    ...(request.store !== undefined && { store: request.store }),
    ...(Object.keys(text).length > 0 && { text }),
    ...(request.reasoningEffort && { reasoning: { effort: request.reasoningEffort } }),
    ...(request.background && { background: true }),
  }
}

function toInputItems (message: ChatMessage): ResponseInputItem[] {
  switch (message.role) {
    case 'tool':
      return [{ type: 'function_call_output', call_id: message.toolCallId, output: message.content }]
    case 'assistant': {
      const calls: ResponseInputItem[] = (message.toolCalls ?? []).map((call) => ({ type: 'function_call', call_id: call.id, name: call.name, arguments: call.arguments }))
      return message.content ? [{ type: 'message', role: 'assistant', content: message.content }, ...calls] : calls
    }
    default:
      return [{ type: 'message', role: message.role, content: typeof message.content === 'string' ? message.content : message.content.map(toInputContent) }]
  }
}

function toInputContent (part: ContentPart): ResponseInputContent {
  return part.type === 'text'
    ? { type: 'input_text', text: part.text }
    : { type: 'input_image', image_url: part.url, detail: part.detail ?? 'auto' }
}

export function fromResponse (answer: unknown): ChatResult {
  const response = checkedResponse<Response>(answer)
  if (response.status === 'failed') {
    throw new ToolError('upstream_unavailable', `The upstream could not produce an answer (response ${response.id}): ${response.error?.message ?? 'the response failed'}. Retry shortly.`, { retryable: true })
  }
  const text = response.output
    .flatMap((item) => item.type === 'message' ? item.content : [])
    .map((part) => part.type === 'output_text' ? part.text : part.refusal)
    .join('')
  const toolCalls: FunctionCall[] = response.output.flatMap((item) => item.type === 'function_call'
    ? [{ id: item.call_id, name: item.name, arguments: item.arguments }]
    : [])
  const usage = reportedUsage(response.usage?.input_tokens, response.usage?.output_tokens, response.usage?.total_tokens)
  return {
    model: response.model,
    text,
    finishReason: finishReason(response, toolCalls.length > 0),
    status: (response.status ?? 'completed') as ResponseStatus,
    toolCalls,
    ...(usage && { usage }),
    responseId: response.id,
  }
}

function finishReason (response: Response, callsTools: boolean): string {
  if (response.status === 'incomplete') {
    const reason = response.incomplete_details?.reason
    return reason === 'max_output_tokens' ? 'length' : reason ?? 'incomplete'
  }
  if (response.status === 'cancelled') return 'cancelled'
  if (response.status === 'queued' || response.status === 'in_progress') return 'pending'
  return callsTools ? 'tool_calls' : 'stop'
}
