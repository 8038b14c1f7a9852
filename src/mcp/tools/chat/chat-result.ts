import type { CallToolResult } from '@modelcontextprotocol/server'
import { Type } from '@sinclair/typebox'
import { type ChatResult, type FunctionCall, terminalStatuses, type UpstreamApi } from '../../../upstream/chat-types.js'
import { JsonValue, StringEnum } from '../../../schemas.js'
import { CacheOutput, type CacheOutcome } from '../../cached-call.js'
import { RoutingOutput } from '../answer-routing.js'
import { AgentTrace } from './agent-loop.js'
import { type ChatAnswer, responseStatuses } from './chat-answer.js'

/** What chat, get_response and cancel_response return in `structuredContent`. */
export const ChatOutput = Type.Object({
  model: Type.String({ description: 'The model that answered, as the upstream names it.' }),
  ...RoutingOutput,
  ...CacheOutput,
  text: Type.String(),
  finishReason: Type.String({ description: 'stop, length, content_filter, tool_calls, cancelled, pending, ...' }),
  status: StringEnum(responseStatuses, { description: 'queued and in_progress: a background response still running; fetch it with get_response.' }),
  toolCalls: Type.Array(Type.Object({
    id: Type.String({ description: 'The call_id to answer in tool_outputs.' }),
    name: Type.String(),
    arguments: JsonValue({ description: 'The parsed JSON arguments; the raw text when the model wrote invalid JSON.' }),
  }), { description: 'Function calls the model asks for.' }),
  json: Type.Optional(JsonValue({ description: 'The parsed answer, when response_format asked for JSON.' })),
  usage: Type.Optional(Type.Object({
    inputTokens: Type.Integer(),
    outputTokens: Type.Integer(),
    totalTokens: Type.Integer(),
  })),
  responseId: Type.String({ description: 'The upstream response id: previous_response_id, get_response and cancel_response take it.' }),
  droppedParameters: Type.Optional(Type.Array(Type.String(), { description: 'Arguments not sent because the model family refuses them (e.g. temperature on reasoning models).' })),
  trace: Type.Optional(AgentTrace),
})

/**
 * A chat answer as an MCP result: the text with what the client should do next (fetch a running
 * response, answer function calls), and everything in `structuredContent`, where the cache outcome
 * says whether it was served from the cache.
 */
export function chatToolResult (
  { result, api, routing, json, droppedParameters = [], trace }: ChatAnswer,
  cache?: CacheOutcome
): CallToolResult {
  const notes: string[] = []
  if (!terminalStatuses.has(result.status)) {
    notes.push(`The response ${result.responseId} is still ${result.status}. Fetch its answer later with get_response {"response_id": "${result.responseId}"}, or stop it with cancel_response.`)
  } else if (result.status === 'cancelled') {
    notes.push(`The response ${result.responseId} was cancelled.`)
  }
  if (result.toolCalls.length > 0) notes.push(describeToolCalls(result, api))
  if (droppedParameters.length > 0) notes.push(`(Not sent to ${result.model}, which does not accept them: ${droppedParameters.join(', ')}.)`)
  const text = [result.text, ...notes].filter(Boolean).join('\n\n')
  return {
    content: [{ type: 'text', text }],
    structuredContent: {
      ...result,
      toolCalls: result.toolCalls.map(({ id, name, arguments: raw }) => ({ id, name, arguments: parseArguments(raw) })),
      ...(json !== undefined && { json }),
      ...(droppedParameters.length > 0 && { droppedParameters }),
      ...(trace && { trace }),
      ...routing,
      ...(cache && { cache }),
    },
  }
}

function describeToolCalls ({ toolCalls, responseId }: ChatResult, api: UpstreamApi): string {
  const calls = toolCalls.map((call: FunctionCall) => `- ${call.name}(${call.arguments}) [call_id ${call.id}]`).join('\n')
  const next = api === 'responses'
    ? `call chat again with tool_outputs [{call_id, output}] and previous_response_id "${responseId}"`
    : 'call chat again with the messages so far, this assistant turn (with its tool_calls) and one {role: "tool", tool_call_id, content} message per call'
  return `The model asks for ${toolCalls.length} function call${toolCalls.length === 1 ? '' : 's'}:\n${calls}\nRun ${toolCalls.length === 1 ? 'it' : 'them'}, then ${next}.`
}

function parseArguments (raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}
