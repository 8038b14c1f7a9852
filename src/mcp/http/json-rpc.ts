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
