import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'

/**
 * The closed set of failure codes a client can branch on (`_meta.error.code`).
 * Each has one meaning whatever tool or upstream produced it.
 */
export const toolErrorCodes = [
  'invalid_arguments',
  'upstream_auth',
  'model_not_found',
  'model_not_allowed',
  'not_found',
  'upstream_rejected',
  'rate_limited',
  'quota_exceeded',
  'upstream_unavailable',
  'circuit_open',
  'provider_saturated',
  'token_limit_reached',
  'upstream_invalid_response',
  'invalid_output',
  'max_turns',
  'timeout',
  'cancelled',
  'internal_error',
] as const

export type ToolErrorCode = typeof toolErrorCodes[number]

export interface ToolErrorDetails {
  /** Whether sending the same call again may succeed. */
  retryable: boolean
  retryAfterSeconds?: number
  upstreamStatus?: number
  upstreamRequestId?: string
}

/** A failure meant for the MCP client: its message says what happened and what to do about it. */
export class ToolError extends Error {
  override name = 'ToolError'

  constructor (
    readonly code: ToolErrorCode,
    message: string,
    readonly details: ToolErrorDetails
  ) {
    super(message)
  }
}

/** The tool result for a failure: `isError` with the message as text, and the same facts under `_meta.error`. */
export function toolErrorResult (error: ToolError, requestId: string): CallToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text: `${error.message} [${error.code}; request id ${requestId}]` }],
    _meta: {
      error: { code: error.code, message: error.message, requestId, ...error.details },
    },
  }
}
