import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { RouterErrorCode } from '../../errors.js'
import { describeValidationErrors } from '../../validation-errors.js'
import { type JsonRpcErrorResponse, JsonRpcErrorCode, jsonRpcError } from './json-rpc.js'

/** Fastify's own refusals (body parsing, schema validation) as the JSON-RPC errors MCP clients expect. */
export function replyWithJsonRpcError (error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  // The client's doing, not the router's fault: error level is for the router's own failures.
  if (error.code === 'ECONNRESET' && request.raw.socket.destroyed) {
    request.log.info({ reason: error.message }, 'MCP request abandoned: the client closed its connection before sending its whole body')
    return reply.code(400).send(jsonRpcError(JsonRpcErrorCode.ParseError, 'Parse error: the body was cut short'))
  }
  const [status, body] = jsonRpcErrorFor(error, request.body, request.routeOptions.bodyLimit)
  if (status >= 500) request.log.error({ err: error }, 'MCP request failed')
  else request.log.info({ statusCode: status, reason: body.error.message }, 'MCP request refused')
  return reply.code(status).send(body)
}

/** The status and JSON-RPC error of a refusal: `body` is the parsed body, `bodyLimit` the route's MAX_BODY_BYTES. */
type Refusal = [status: number, body: JsonRpcErrorResponse]

export function jsonRpcErrorFor (error: FastifyError, body: unknown, bodyLimit?: number): Refusal {
  if (error.validation) {
    if (error.validationContext === 'body') {
      const detail = Array.isArray(body)
        ? 'a JSON array (batches are not supported; send one message per request)'
        : `not a JSON-RPC 2.0 message (${describeValidationErrors(error.validation as never)})`
      return [400, jsonRpcError(JsonRpcErrorCode.InvalidRequest, `Invalid Request: the body is ${detail}`)]
    }
    return [400, jsonRpcError(JsonRpcErrorCode.ServerError, `Bad Request: ${error.message}`)]
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [415, jsonRpcError(JsonRpcErrorCode.ServerError, 'Unsupported Media Type: Content-Type must be application/json')]
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [413, jsonRpcError(JsonRpcErrorCode.ServerError, `Payload Too Large: the body must not exceed ${bodyLimit} bytes (MAX_BODY_BYTES)`)]
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return [400, jsonRpcError(JsonRpcErrorCode.ParseError, 'Parse error: the body is not valid JSON')]
    case RouterErrorCode.RateLimited:
      return [429, jsonRpcError(JsonRpcErrorCode.ServerError, error.message)]
  }
  const message = 'Internal error: the router failed to handle the request; the logs have the details'
  return [500, jsonRpcError(JsonRpcErrorCode.InternalError, message)]
}
