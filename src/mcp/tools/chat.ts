import { createChat, withoutUnsupportedParameters } from '../../upstream/chat.js'
import { checkResponseFormat, parseStructuredOutput } from '../structured-output.js'
import { defineTool, upstreamCall } from '../tool.js'
import { waitForResponse } from './background-response.js'
import { ChatArguments, toChatRequest } from './chat-arguments.js'
import { ChatOutput, chatToolResult } from './chat-result.js'

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
  taskSupport: 'optional',
  async run (args, context) {
    const { openai, config, requestId, progress } = context
    checkResponseFormat(args.response_format)
    const { request, dropped } = withoutUnsupportedParameters(toChatRequest(args, config))
    if (dropped.length > 0) context.log.info({ model: request.model, dropped }, 'parameters the model family refuses were not sent')
    // A background response is polled, not streamed: its text arrives all at once.
    const onText = progress.wanted && !request.background ? (delta: string) => progress.text(delta) : undefined
    let result = await upstreamCall(
      context,
      { name: 'chat', operation: `chat with ${request.model}`, model: request.model, timeoutMs: args.timeout_ms },
      (signal) => createChat(openai, config.UPSTREAM_API, request, { signal, requestId, ...(onText && { onText }) })
    )
    if (request.background) result = await waitForResponse(context, result, { cancelIfAbandoned: true })
    context.record.answered(result.model, result.usage)
    const answered = result.status === 'completed' || result.status === 'incomplete'
    const json = request.responseFormat && answered && result.toolCalls.length === 0
      ? parseStructuredOutput(result.text, request.responseFormat, result.finishReason)
      : undefined
    return chatToolResult(result, { api: config.UPSTREAM_API, json, droppedParameters: dropped })
  },
})
