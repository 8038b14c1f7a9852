import { CacheArgument } from '../../cached-call.js'
import { type Static, Type } from '@sinclair/typebox'
import type { ChatMessage, ChatRequest, ContentPart, FunctionCall, ResponseFormat, ToolDefinition, UpstreamApi } from '../../../upstream/chat-types.js'
import { JsonValue, StringEnum } from '../../../schemas.js'
import { TimeoutArgument } from '../../tool.js'
import { ToolError } from '../../../errors.js'

const TextPart = Type.Object({
  type: Type.Literal('text'),
  text: Type.String(),
}, { additionalProperties: false })

const ImageDetail = StringEnum(['auto', 'low', 'high'] as const, { description: 'How closely the model looks: low is cheaper.' })

const ImageUrlPart = Type.Object({
  type: Type.Literal('image_url'),
  image_url: Type.Union([
    Type.String({ minLength: 1 }),
    Type.Object(
      { url: Type.String({ minLength: 1 }), detail: Type.Optional(ImageDetail) },
      { additionalProperties: false }
    ),
  ], { description: 'An https: URL or a data: URL (data:image/png;base64,...), alone or as {url, detail}.' }),
}, { additionalProperties: false })

const McpImagePart = Type.Object({
  type: Type.Literal('image'),
  data: Type.String({ minLength: 1, description: 'Base64 image bytes.' }),
  mimeType: Type.String({ pattern: '^image/', title: 'an image/* MIME type', description: 'e.g. image/png' }),
}, { additionalProperties: false, description: 'An MCP image content block, as another tool returned it.' })

const ToolCall = Type.Union([
  Type.Object({
    id: Type.String({ minLength: 1 }),
    name: Type.String({ minLength: 1 }),
    arguments: JsonValue({ description: 'JSON text or a parsed value.' }),
  }, { additionalProperties: false, description: 'A call exactly as chat returned it in structuredContent.toolCalls.' }),
  Type.Object({
    id: Type.String({ minLength: 1 }),
    type: Type.Optional(Type.Literal('function')),
    function: Type.Object({ name: Type.String({ minLength: 1 }), arguments: Type.String() }),
  }, { additionalProperties: false, description: 'The Chat Completions form.' }),
])

const Message = Type.Object({
  role: StringEnum(['system', 'developer', 'user', 'assistant', 'tool'] as const),
  content: Type.Optional(Type.Union([
    Type.String(),
    Type.Array(Type.Union([TextPart, ImageUrlPart, McpImagePart]), { minItems: 1 }),
    Type.Null(),
  ], { description: 'The text, or a list of parts: {type:"text", text}, {type:"image_url", image_url}, {type:"image", data, mimeType}. Images go in user messages.' })),
  tool_calls: Type.Optional(Type.Array(ToolCall, { minItems: 1, description: 'assistant only: the function calls it made.' })),
  tool_call_id: Type.Optional(Type.String({ minLength: 1, description: 'tool only: the call this message answers.' })),
}, { additionalProperties: false })

const FunctionName = Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$', title: 'letters, digits, _ or - (at most 64)' })

const FunctionFields = {
  name: Type.Optional(FunctionName),
  description: Type.Optional(Type.String()),
  parameters: Type.Optional(Type.Object({}, { description: 'JSON Schema of the function arguments.' })),
  strict: Type.Optional(Type.Boolean()),
}

const Tool = Type.Object({
  type: Type.String({ minLength: 1, description: '"function", or a hosted tool of the Responses API: "web_search", "file_search", "code_interpreter", "mcp", ...' }),
  ...FunctionFields,
  function: Type.Optional(Type.Object({ ...FunctionFields, name: FunctionName }, { additionalProperties: false, description: 'The Chat Completions form of a function tool, accepted as well.' })),
}, { additionalProperties: true, description: 'Function tools: {type:"function", name, description, parameters}. Hosted tools take their own settings (e.g. {type:"mcp", server_label, server_url}).' })

const ResponseFormatArgument = Type.Union([
  Type.Object({
    type: Type.Literal('json_schema'),
    name: FunctionName,
    schema: Type.Object({}, { description: 'The JSON Schema the answer must match.' }),
    strict: Type.Optional(Type.Boolean()),
  }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('json_object') }, { additionalProperties: false }),
], { description: 'Ask for JSON: {type:"json_schema", name, schema, strict} or {type:"json_object"}. The parsed value is returned in structuredContent.json.' })

export const ChatArguments = Type.Object({
  prompt: Type.Optional(Type.String({ minLength: 1, description: 'A single user message.' })),
  messages: Type.Optional(Type.Array(Message, { minItems: 1, description: 'The conversation so far: [{role: "user", content: "..."}, ...].' })),
  system: Type.Optional(Type.String({ minLength: 1, description: 'An instruction placed before the conversation.' })),
  model: Type.Optional(Type.String({ minLength: 1, description: 'Model id, e.g. "gpt-4.1-mini"; the router default when omitted. See list_models.' })),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2, description: 'Sampling temperature, 0 to 2 (not sent to reasoning models).' })),
  top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Nucleus sampling mass, 0 to 1 (not sent to reasoning models).' })),
  max_tokens: Type.Optional(Type.Integer({ minimum: 1, description: 'Upper bound on tokens in the answer.' })),
  tools: Type.Optional(Type.Array(Tool, { minItems: 1, description: 'Tools the model may call.' })),
  tool_choice: Type.Optional(Type.Union([
    StringEnum(['auto', 'none', 'required'] as const),
    Type.Object({ type: Type.Literal('function'), name: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  ], { description: '"auto", "none", "required", or {type:"function", name} to force one function.' })),
  parallel_tool_calls: Type.Optional(Type.Boolean({ description: 'Whether the model may ask for several calls at once.' })),
  tool_outputs: Type.Optional(Type.Array(Type.Object({
    call_id: Type.String({ minLength: 1, description: 'The id from toolCalls.' }),
    output: Type.String({ description: 'What the function returned, usually JSON text.' }),
  }, { additionalProperties: false }), { minItems: 1, description: 'Results of the function calls the model asked for, sent after the messages.' })),
  previous_response_id: Type.Optional(Type.String({ minLength: 1, description: 'Responses API: continue from this responseId without resending the history.' })),
  store: Type.Optional(Type.Boolean({ description: 'Whether the upstream keeps the response (needed for previous_response_id and background).' })),
  response_format: Type.Optional(ResponseFormatArgument),
  reasoning_effort: Type.Optional(StringEnum(['minimal', 'low', 'medium', 'high'] as const, { description: 'Reasoning models only: how hard to think.' })),
  verbosity: Type.Optional(StringEnum(['low', 'medium', 'high'] as const, { description: 'GPT-5 family only: how long the answer is.' })),
  background: Type.Optional(Type.Boolean({ description: 'Responses API: run the response detached and poll it (POLL_INTERVAL_MS, POLL_MAX_MS); if it outlasts the wait, the result carries its id for get_response.' })),
  use_tools: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Downstream MCP tools the router runs for the model, looping until it answers: server names ("think") or globs over <server>__<tool> function names ("search__*").' })),
  agent: Type.Optional(Type.Boolean({ description: 'Like use_tools, with every configured downstream tool.' })),
  max_turns: Type.Optional(Type.Integer({ minimum: 1, description: 'use_tools/agent: most model turns (default 8, capped at AGENT_MAX_TURNS).' })),
  timeout_ms: TimeoutArgument,
  cache: CacheArgument,
}, { additionalProperties: false })

export type ChatArgumentsType = Static<typeof ChatArguments>

/**
 * The arguments as one upstream request; what a schema cannot say is checked here, with the same
 * kind of message. `api` is the API of the provider the model routes to; `model` the name the
 * client asked for (or the default).
 */
export function toChatRequest (args: ChatArgumentsType, api: UpstreamApi, model: string): ChatRequest {
  const messages = (args.messages ?? []).map(toChatMessage)
  if (args.prompt !== undefined) messages.push({ role: 'user', content: args.prompt })
  if (messages.length === 0 && !args.tool_outputs) {
    throw invalid('give `prompt` (a string) or `messages` (a list of {role, content})')
  }
  const tools = args.tools?.map(toToolDefinition)
  if (api === 'chat_completions') {
    const hosted = tools?.find((tool) => tool.type !== 'function')
    if (hosted) throw invalid(`tools: "${hosted.type}" is a hosted tool of the Responses API; this model's provider uses Chat Completions, which takes function tools only`)
    for (const name of ['previous_response_id', 'background'] as const) {
      if (args[name] !== undefined) throw invalid(`${name} needs the Responses API; this model's provider uses Chat Completions: send the whole conversation in \`messages\` instead`)
    }
  }
  if (args.background && args.store === false) throw invalid('background needs store: the upstream must keep the response to be fetched later')
  if (args.background && (args.use_tools || args.agent)) throw invalid('background cannot be combined with use_tools or agent: the router runs the tools between turns, so it must wait for each one')
  return {
    model,
    messages,
    ...(args.system !== undefined && { instructions: args.system }),
    ...(args.temperature !== undefined && { temperature: args.temperature }),
    ...(args.top_p !== undefined && { topP: args.top_p }),
    ...(args.max_tokens !== undefined && { maxOutputTokens: args.max_tokens }),
    ...(tools && { tools }),
    ...(args.tool_choice && { toolChoice: args.tool_choice }),
    ...(args.parallel_tool_calls !== undefined && { parallelToolCalls: args.parallel_tool_calls }),
    ...(args.tool_outputs && {
      toolOutputs: args.tool_outputs.map(({ call_id: callId, output }) => ({ callId, output })),
    }),
    ...(args.previous_response_id && { previousResponseId: args.previous_response_id }),
    ...(args.store !== undefined && { store: args.store }),
    ...(args.response_format && { responseFormat: args.response_format as ResponseFormat }),
    ...(args.reasoning_effort && { reasoningEffort: args.reasoning_effort }),
    ...(args.verbosity && { verbosity: args.verbosity }),
    ...(args.background && { background: true }),
  }
}

type MessageArgument = ChatArgumentsType['messages'] extends Array<infer M> | undefined ? M : never
type PartArgument = Exclude<MessageArgument['content'], string | null | undefined>[number]

function toChatMessage (message: MessageArgument, index: number): ChatMessage {
  const field = `messages[${index}]`
  const { role, content, tool_calls: toolCalls, tool_call_id: toolCallId } = message
  if (toolCalls && role !== 'assistant') throw invalid(`${field}.tool_calls belongs on assistant messages only`)
  if (toolCallId && role !== 'tool') throw invalid(`${field}.tool_call_id belongs on tool messages only`)
  const parts = typeof content === 'string' ? [{ type: 'text' as const, text: content }] : (content ?? []).map(toContentPart)
  if (role !== 'user' && parts.some((part) => part.type === 'image')) throw invalid(`${field}: images go in user messages only`)
  const text = parts.map((part) => part.type === 'text' ? part.text : '').join('\n')
  switch (role) {
    case 'tool':
      if (!toolCallId) throw invalid(`${field}.tool_call_id is required on tool messages (the id of the call it answers)`)
      return { role, toolCallId, content: text }
    case 'assistant':
      if (content == null && !toolCalls) throw invalid(`${field}.content is required`)
      return { role, content: text, ...(toolCalls && { toolCalls: toolCalls.map(toFunctionCall) }) }
    default:
      if (content == null) throw invalid(`${field}.content is required`)
      return { role, content: typeof content === 'string' ? content : parts }
  }
}

function toFunctionCall (call: NonNullable<MessageArgument['tool_calls']>[number]): FunctionCall {
  if ('function' in call) return { id: call.id, name: call.function.name, arguments: call.function.arguments }
  return { id: call.id, name: call.name, arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}) }
}

function toContentPart (part: PartArgument): ContentPart {
  switch (part.type) {
    case 'text':
      return part
    case 'image':
      return { type: 'image', url: `data:${part.mimeType};base64,${part.data}` }
    case 'image_url':
      return typeof part.image_url === 'string'
        ? { type: 'image', url: part.image_url }
        : { type: 'image', url: part.image_url.url, ...(part.image_url.detail && { detail: part.image_url.detail }) }
  }
}

// Chat Completions' nested form ({type:"function", function:{name, ...}}) is accepted too: many clients
// build tools that way.
function toToolDefinition (tool: ChatArgumentsType['tools'] extends Array<infer T> | undefined ? T : never, index: number): ToolDefinition {
  const { function: nested, ...flat } = tool
  const definition = tool.type === 'function' && nested ? { type: 'function', ...nested } : flat
  if (definition.type === 'function' && definition.name === undefined) throw invalid(`tools[${index}].name is required for function tools`)
  return definition as ToolDefinition
}

function invalid (reason: string): ToolError {
  return new ToolError('invalid_arguments', `Invalid arguments for chat: ${reason}.`, { retryable: false })
}
