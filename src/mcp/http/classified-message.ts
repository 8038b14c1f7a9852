import { type InitializeRequest, PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server'

export type JsonRpcId = string | number

/** A message's params, as any JSON-RPC object. */
export type MessageParams = Readonly<Record<string, unknown>>

interface Addressed {
  method: string
  params: MessageParams | undefined
  /** Whether it carries the 2026-07-28 envelope's protocol version (`_meta`): a claim the SDK checks, not a fact. */
  claimsModernEnvelope: boolean
}

export interface ClassifiedRequest extends Addressed {
  kind: 'request'
  id: JsonRpcId
  /** A `tools/call`'s tool, when its name is a string. */
  tool?: string
  /** The arguments of a `tools/call` with a tool, as sent. */
  toolArguments?: unknown
  /** What is wrong with a `tools/call`'s params, in words. */
  invalidParams?: string
  progressToken?: JsonRpcId
  /** An `initialize` request's params, which the SDK server checks. */
  initialize?: InitializeRequest['params']
}

export interface ClassifiedNotification extends Addressed {
  kind: 'notification'
  /** A `notifications/cancelled` that names a request: the call it stops, and why. */
  cancels?: { requestId: JsonRpcId, reason: string | undefined }
}

export interface ClassifiedResult {
  kind: 'response'
  id: JsonRpcId | undefined
  result: MessageParams
}

export interface ClassifiedError {
  kind: 'error'
  id: JsonRpcId | null | undefined
  code: number
  message: string
}

/**
 * What the router needs to know of one JSON-RPC message, read once: whether it is a request, a
 * notification, a result or an error, and what its steps ask of it (the tool it calls, whether it
 * wants progress, what it cancels, whether it claims the 2026-07-28 envelope). Each step reads this
 * typed value instead of probing the message again.
 */
export type ClassifiedMessage = ClassifiedRequest | ClassifiedNotification | ClassifiedResult | ClassifiedError

/** What every JSON-RPC message may hold, as the router's own schema and the SDK's types both describe it. */
interface JsonRpcFields {
  jsonrpc: string
  id?: unknown
  method?: unknown
  params?: unknown
  result?: unknown
  error?: unknown
}

/** `message`, a JSON-RPC message already checked against its schema (the route's body schema, or the SDK's). */
export function classifyMessage (message: JsonRpcFields): ClassifiedMessage {
  const { id, method, error } = message
  if (typeof method === 'string') {
    const params = objectOr(message.params)
    const claimsModernEnvelope = objectOr(params?._meta)?.[PROTOCOL_VERSION_META_KEY] !== undefined
    if (isJsonRpcId(id)) return { kind: 'request', id, method, params, claimsModernEnvelope, ...requestDetails(method, params) }
    return { kind: 'notification', method, params, claimsModernEnvelope, ...(method === 'notifications/cancelled' && cancellation(params)) }
  }
  const failure = objectOr(error)
  if (failure) {
    const errorId = isJsonRpcId(id) || id === null ? id : undefined
    return { kind: 'error', id: errorId, code: Number(failure.code), message: String(failure.message) }
  }
  return { kind: 'response', id: isJsonRpcId(id) ? id : undefined, result: objectOr(message.result) ?? {} }
}

function requestDetails (method: string, params: MessageParams | undefined): Partial<ClassifiedRequest> {
  const progressToken = objectOr(params?._meta)?.progressToken
  const details: Partial<ClassifiedRequest> = isJsonRpcId(progressToken) ? { progressToken } : {}
  // Its params are the SDK server's to check; the router only keeps them for a session's take-over.
  if (method === 'initialize' && params) return { ...details, initialize: params as InitializeRequest['params'] }
  if (method !== 'tools/call') return details
  const name = params?.name
  const args = params?.arguments
  if (typeof name !== 'string') return { ...details, invalidParams: 'params.name must be the name of a tool, as a string (tools/list lists them)' }
  const invalidArguments = args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))
  return { ...details, tool: name, toolArguments: args, ...(invalidArguments && { invalidParams: 'params.arguments must be an object of named arguments' }) }
}

function cancellation (params: MessageParams | undefined): Pick<ClassifiedNotification, 'cancels'> {
  const requestId = params?.requestId
  if (!isJsonRpcId(requestId)) return {}
  return { cancels: { requestId, reason: typeof params?.reason === 'string' ? params.reason : undefined } }
}

function isJsonRpcId (value: unknown): value is JsonRpcId {
  return typeof value === 'string' || typeof value === 'number'
}

function objectOr (value: unknown): MessageParams | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as MessageParams : undefined
}
