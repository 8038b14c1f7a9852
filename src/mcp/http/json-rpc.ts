import type { InitializeRequest } from '@modelcontextprotocol/server'
import { type Static, Type } from '@sinclair/typebox'

/** Error codes the HTTP layer answers with before a message reaches the MCP server. */
export const JsonRpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Transport-level refusals (406, 415, 403, 413, 503), as the SDK's transport answers them. */
  ServerError: -32000,
  SessionNotFound: -32001,
} as const

const RequestId = Type.Union([Type.String(), Type.Integer()])

/** One JSON-RPC 2.0 message: a request, a notification, or a response to a server request. */
export const JsonRpcMessageSchema = Type.Union([
  Type.Object({ jsonrpc: Type.Literal('2.0'), id: RequestId, method: Type.String(), params: Type.Optional(Type.Object({})) }),
  Type.Object({ jsonrpc: Type.Literal('2.0'), method: Type.String(), params: Type.Optional(Type.Object({})) }),
  Type.Object({ jsonrpc: Type.Literal('2.0'), id: RequestId, result: Type.Object({}) }),
  Type.Object({ jsonrpc: Type.Literal('2.0'), id: Type.Union([RequestId, Type.Null()]), error: Type.Object({ code: Type.Integer(), message: Type.String() }) }),
], { description: 'A single JSON-RPC 2.0 message (batches were removed from MCP in 2025-06-18).' })

export type JsonRpcMessage = Static<typeof JsonRpcMessageSchema>

export const JsonRpcErrorSchema = Type.Object({
  jsonrpc: Type.Literal('2.0'),
  id: Type.Union([RequestId, Type.Null()]),
  error: Type.Object({
    code: Type.Integer(),
    message: Type.String(),
  }),
})

export type JsonRpcErrorResponse = Static<typeof JsonRpcErrorSchema>

export function jsonRpcError (code: number, message: string, id: string | number | null = null): JsonRpcErrorResponse {
  return { jsonrpc: '2.0', id, error: { code, message } }
}

/**
 * What is wrong with a `tools/call` request's params, in words; `undefined` when nothing is. The
 * SDK would refuse such params too, but as an internal error carrying its raw validation dump.
 */
export function toolCallParamsProblem (message: JsonRpcMessage): string | undefined {
  if (!('method' in message) || message.method !== 'tools/call' || !('id' in message)) return undefined
  const params = message.params as { name?: unknown, arguments?: unknown } | undefined
  if (typeof params?.name !== 'string') return 'params.name must be the name of a tool, as a string (tools/list lists them)'
  const args = params.arguments
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) return 'params.arguments must be an object of named arguments'
  return undefined
}

/** An initialize request; its params are the SDK server's to check. */
export function isInitializeRequest (message: JsonRpcMessage): message is JsonRpcMessage & { id: string | number, method: 'initialize', params: InitializeRequest['params'] } {
  return 'method' in message && message.method === 'initialize' && 'id' in message
}

export interface CancellationNotification {
  method: 'notifications/cancelled'
  params: { requestId: string | number, reason?: string }
}

export function isCancellation (message: JsonRpcMessage): message is JsonRpcMessage & CancellationNotification {
  if (!('method' in message) || message.method !== 'notifications/cancelled' || 'id' in message) return false
  const requestId = (message.params as { requestId?: unknown } | undefined)?.requestId
  return typeof requestId === 'string' || typeof requestId === 'number'
}

/** Whether the client asked for progress: such calls are answered as an SSE stream, others as plain JSON. */
export function wantsProgress (message: JsonRpcMessage): boolean {
  const meta = 'params' in message ? (message.params as { _meta?: { progressToken?: unknown } } | undefined)?._meta : undefined
  return meta?.progressToken !== undefined
}
