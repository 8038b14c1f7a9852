import { Type } from '@sinclair/typebox'
import { type ChatMessage, createChat } from '../../upstream/chat.js'
import { callUpstream } from '../../upstream/errors.js'
import { StringEnum } from '../../schemas.js'
import { defineTool } from '../tool.js'
import { ToolError } from '../tool-error.js'

const TextPart = Type.Object({
  type: Type.Literal('text'),
  text: Type.String(),
}, { additionalProperties: false })

const Message = Type.Object({
  role: StringEnum(['system', 'developer', 'user', 'assistant'] as const),
  content: Type.Union([Type.String(), Type.Array(TextPart, { minItems: 1 })], { description: 'The text, or a list of {type:"text", text} parts.' }),
}, { additionalProperties: false })

const Usage = Type.Object({
  inputTokens: Type.Integer(),
  outputTokens: Type.Integer(),
  totalTokens: Type.Integer(),
})

export const chatTool = defineTool({
  name: 'chat',
  title: 'Chat with a model',
  description: 'Sends one request to an OpenAI (or OpenAI-compatible) model and returns its answer. Give either `prompt` (a single user message) or `messages` (a conversation in OpenAI chat format); when both are given, `prompt` is added as the last user message.',
  inputSchema: Type.Object({
    prompt: Type.Optional(Type.String({ minLength: 1, description: 'A single user message.' })),
    messages: Type.Optional(Type.Array(Message, { minItems: 1, description: 'The conversation so far: [{role: "user", content: "..."}, ...].' })),
    system: Type.Optional(Type.String({ minLength: 1, description: 'An instruction placed before the conversation.' })),
    model: Type.Optional(Type.String({ minLength: 1, description: 'Model id, e.g. "gpt-4.1-mini"; the router default when omitted. See list_models.' })),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2, description: 'Sampling temperature, 0 to 2.' })),
    top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Nucleus sampling mass, 0 to 1.' })),
    max_tokens: Type.Optional(Type.Integer({ minimum: 1, description: 'Upper bound on tokens in the answer.' })),
  }, { additionalProperties: false }),
  outputSchema: Type.Object({
    model: Type.String({ description: 'The model that answered, as the upstream names it.' }),
    text: Type.String(),
    finishReason: Type.String({ description: 'stop, length, content_filter, tool_calls, ...' }),
    usage: Type.Optional(Usage),
    responseId: Type.String({ description: 'The upstream response id.' }),
  }),
  annotations: { readOnlyHint: true, idempotentHint: false, openWorldHint: true },
  async run (args, { openai, config, signal, requestId }) {
    const messages: ChatMessage[] = (args.messages ?? []).map(({ role, content }) => ({
      role,
      content: typeof content === 'string' ? content : content.map((part) => part.text).join('\n'),
    }))
    if (args.prompt !== undefined) messages.push({ role: 'user', content: args.prompt })
    if (messages.length === 0) {
      throw new ToolError('invalid_arguments', 'Invalid arguments for chat: give `prompt` (a string) or `messages` (a list of {role, content}).', { retryable: false })
    }
    const model = args.model ?? config.MODEL
    const result = await callUpstream(
      { operation: `chat with ${model}`, model, baseURL: config.OPENAI_BASE_URL, timeoutMs: config.UPSTREAM_TIMEOUT_MS, signal },
      () => createChat(openai, config.UPSTREAM_API, {
        model,
        messages,
        ...(args.system !== undefined && { instructions: args.system }),
        ...(args.temperature !== undefined && { temperature: args.temperature }),
        ...(args.top_p !== undefined && { topP: args.top_p }),
        ...(args.max_tokens !== undefined && { maxOutputTokens: args.max_tokens }),
      }, { signal, requestId })
    )
    return {
      content: [{ type: 'text', text: result.text }],
      structuredContent: { ...result },
    }
  },
})
