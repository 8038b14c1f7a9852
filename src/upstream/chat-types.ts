import type { UpstreamRequestContext } from './request-options.js'

export type UpstreamApi = 'responses' | 'chat_completions'

export type ContentPart =
  | { type: 'text', text: string }
  /** An https: or data: URL. */
  | { type: 'image', url: string, detail?: 'auto' | 'low' | 'high' }

/** A function call the model asked for; `arguments` is the JSON text exactly as the model wrote it. */
export interface FunctionCall {
  id: string
  name: string
  arguments: string
}

export type ChatMessage =
  | { role: 'system' | 'developer' | 'user', content: string | ContentPart[] }
  | { role: 'assistant', content: string, toolCalls?: FunctionCall[] }
  | { role: 'tool', toolCallId: string, content: string }

export interface ToolOutput {
  callId: string
  output: string
}

export interface FunctionTool {
  type: 'function'
  name: string
  description?: string
  parameters?: Record<string, unknown>
  strict?: boolean
}

/**
 * A function tool, or a hosted tool of the Responses API (`web_search`, `file_search`,
 * `code_interpreter`, `mcp`, ...) passed as given.
 */
export type ToolDefinition = FunctionTool | { type: string, [setting: string]: unknown }

export function isFunctionTool (tool: ToolDefinition): tool is FunctionTool {
  return tool.type === 'function'
}

export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function', name: string }

export type ResponseFormat =
  | { type: 'json_schema', name: string, schema: Record<string, unknown>, strict?: boolean }
  | { type: 'json_object' }

export interface ChatRequest {
  model: string
  messages: ChatMessage[]
  /** A leading instruction (Responses `instructions`, a first system message on Chat Completions). */
  instructions?: string
  temperature?: number
  topP?: number
  maxOutputTokens?: number
  tools?: ToolDefinition[]
  toolChoice?: ToolChoice
  parallelToolCalls?: boolean
  /** Results of the function calls of the previous turn, appended after the messages. */
  toolOutputs?: ToolOutput[]
  previousResponseId?: string
  store?: boolean
  responseFormat?: ResponseFormat
  reasoningEffort?: 'minimal' | 'low' | 'medium' | 'high'
  verbosity?: 'low' | 'medium' | 'high'
  /** Responses API: run detached; the answer is fetched later by id. */
  background?: boolean
}

export interface TokenUsage {
  inputTokens: number
  outputTokens: number
  totalTokens: number
}

/** Where a response stands; only the Responses API has the in-between states. */
export type ResponseStatus = 'completed' | 'incomplete' | 'failed' | 'cancelled' | 'queued' | 'in_progress'

/** One answer, the same shape whichever upstream API produced it. */
export interface ChatResult {
  model: string
  text: string
  /** Chat Completions vocabulary for both APIs: `stop`, `length`, `content_filter`, `tool_calls`, ... */
  finishReason: string
  status: ResponseStatus
  toolCalls: FunctionCall[]
  usage?: TokenUsage
  responseId: string
}

export interface ChatCallContext extends UpstreamRequestContext {
  /** When set, the answer is streamed and each piece of text is handed here as it arrives. */
  onText?: (delta: string) => void
}

export const terminalStatuses: ReadonlySet<ResponseStatus> = new Set(['completed', 'incomplete', 'failed', 'cancelled'])
