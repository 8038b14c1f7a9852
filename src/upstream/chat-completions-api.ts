import type OpenAI from 'openai'
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionContentPart, ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions'
import { checkedChatCompletion, jsonAnswer } from './answer-shapes.js'
import { type ChatCallContext, type ChatMessage, type ChatRequest, type ChatResult, type ContentPart, type FunctionCall, isFunctionTool, type TokenUsage, type ToolChoice } from './chat-types.js'
import { streamInterrupted } from './errors.js'
import { modelTraits } from './model-family.js'
import { upstreamRequestOptions } from './request-options.js'
import { readEventStream } from './server-sent-events.js'
import { reportedUsage } from './token-usage.js'

/** One call to `POST /chat/completions`, streamed when the context asks for text as it arrives. */
export async function createChatCompletion (
  openai: OpenAI,
  request: ChatRequest,
  context: ChatCallContext
): Promise<ChatResult> {
  const params = toChatCompletionParams(request)
  const options = upstreamRequestOptions(context)
  const { onText } = context
  if (!onText) return fromChatCompletion(await jsonAnswer(openai.chat.completions.create(params, options)))

  const streamed = { ...params, stream: true, stream_options: { include_usage: true } } as const
  const response = await openai.chat.completions.create(streamed, options).asResponse()
  const answer: ChatResult = { model: request.model, text: '', finishReason: '', status: 'completed', toolCalls: [], responseId: '' }
  try {
    await readEventStream(response, (event) => {
      addChunk(answer, event as unknown as ChatCompletionChunk, onText)
      return undefined
    })
  } catch (err) {
    throw streamInterrupted(err, answer.text.length, context.signal)
  }
  if (!answer.finishReason) {
    throw streamInterrupted(new Error('the stream ended without a finish reason'), answer.text.length, context.signal)
  }
  answer.status = statusOf(answer.finishReason)
  return answer
}

/** One streamed chunk into the answer so far: its text handed on as it arrives. */
function addChunk (answer: ChatResult, chunk: ChatCompletionChunk, onText: (text: string) => void): void {
  answer.responseId ||= chunk.id
  answer.model = chunk.model || answer.model
  const usage = chunk.usage && usageOf(chunk.usage)
  if (usage) answer.usage = usage
  const choice = chunk.choices?.[0]
  if (!choice) return
  const piece = choice.delta?.content ?? choice.delta?.refusal
  if (piece) {
    answer.text += piece
    onText(piece)
  }
  // A call arrives in pieces keyed by index: the id and name first, the arguments in fragments.
  for (const fragment of choice.delta?.tool_calls ?? []) {
    const call = answer.toolCalls[fragment.index] ??= { id: '', name: '', arguments: '' }
    if (fragment.id) call.id = fragment.id
    if (fragment.function?.name) call.name += fragment.function.name
    if (fragment.function?.arguments) call.arguments += fragment.function.arguments
  }
  if (choice.finish_reason) answer.finishReason = choice.finish_reason
}

function toChatCompletionParams (request: ChatRequest): ChatCompletionCreateParamsNonStreaming {
  const messages: ChatCompletionMessageParam[] = request.messages.map(toMessageParam)
  if (request.instructions !== undefined) messages.unshift({ role: 'system', content: request.instructions })
  for (const { callId, output } of request.toolOutputs ?? []) messages.push({ role: 'tool', tool_call_id: callId, content: output })
  const format = request.responseFormat
  return {
    model: request.model,
    messages,
    ...(request.temperature !== undefined && { temperature: request.temperature }),
    ...(request.topP !== undefined && { top_p: request.topP }),
    // `max_tokens` is the one every OpenAI-compatible server knows; reasoning models take only the newer name.
    ...(request.maxOutputTokens !== undefined && {
      [modelTraits(request.model).maxTokensField]: request.maxOutputTokens,
    }),
    ...(request.tools && {
      // Chat Completions has function tools only; the chat tool refuses hosted ones before this point.
      tools: request.tools.filter(isFunctionTool).map(({ name, description, parameters, strict }) => ({
        type: 'function' as const,
        function: {
          name,
          ...(description !== undefined && { description }),
          ...(parameters && { parameters }),
          ...(strict !== undefined && { strict }),
        },
      })),
    }),
    ...(request.toolChoice && { tool_choice: toToolChoice(request.toolChoice) }),
    ...(request.parallelToolCalls !== undefined && { parallel_tool_calls: request.parallelToolCalls }),
    ...(request.store !== undefined && { store: request.store }),
    ...(format && {
      response_format: format.type === 'json_schema'
        ? { type: 'json_schema', json_schema: { name: format.name, schema: format.schema, ...(format.strict !== undefined && { strict: format.strict }) } }
        : { type: 'json_object' },
    }),
    ...(request.reasoningEffort && { reasoning_effort: request.reasoningEffort }),
    ...(request.verbosity && { verbosity: request.verbosity }),
  }
}

function toMessageParam (message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content }
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content || null,
        ...(message.toolCalls?.length && {
          tool_calls: message.toolCalls.map((call) => ({ id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.arguments } })),
        }),
      }
    case 'user':
      return { role: 'user', content: typeof message.content === 'string' ? message.content : message.content.map(toContentPart) }
    default:
      return { role: message.role, content: typeof message.content === 'string' ? message.content : message.content.map((part) => part.type === 'text' ? part.text : '').join('\n') }
  }
}

function toContentPart (part: ContentPart): ChatCompletionContentPart {
  return part.type === 'text'
    ? { type: 'text', text: part.text }
    : { type: 'image_url', image_url: { url: part.url, ...(part.detail && { detail: part.detail }) } }
}

function toToolChoice (choice: ToolChoice): ChatCompletionToolChoiceOption {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } }
}

export function fromChatCompletion (answer: unknown): ChatResult {
  const completion = checkedChatCompletion<ChatCompletion>(answer)
  const choice = completion.choices[0] as ChatCompletion.Choice
  const finishReason = choice.finish_reason ?? 'stop'
  const toolCalls: FunctionCall[] = (choice.message.tool_calls ?? []).flatMap((call) => call.type === 'function'
    ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments }]
    : [])
  const usage = completion.usage && usageOf(completion.usage)
  return {
    model: completion.model,
    text: choice.message.content ?? choice.message.refusal ?? '',
    finishReason,
    status: statusOf(finishReason),
    toolCalls,
    ...(usage && { usage }),
    responseId: completion.id,
  }
}

function statusOf (finishReason: string): ChatResult['status'] {
  return finishReason === 'length' || finishReason === 'content_filter' ? 'incomplete' : 'completed'
}

function usageOf (
  usage: { prompt_tokens: unknown, completion_tokens: unknown, total_tokens: unknown }
): TokenUsage | undefined {
  return reportedUsage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
}
