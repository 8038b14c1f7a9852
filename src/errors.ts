import createError from '@fastify/error'

/** A setting the router cannot start (or reload) with; `problem` names the setting and says what is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError'

  constructor (problem: string) {
    super(`Invalid configuration: ${problem}`)
  }
}

/**
 * The codes of the refusals one plugin raises and another answers (the /mcp error handler
 * switches on them): a code says what happened, where a status only says how to reply.
 */
export const RouterErrorCode = {
  /** A client (or, with the router open, an address) past its requests per minute. */
  RateLimited: 'ROUTER_ERR_RATE_LIMITED',
} as const

/** @fastify/rate-limit's refusal; its argument says who sent too many and which setting limits it. */
export const RateLimitedError = createError<typeof RouterErrorCode.RateLimited, 429, [string]>(RouterErrorCode.RateLimited, 'Too Many Requests: %s', 429)

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
  'usd_limit_reached',
  'model_unpriced',
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
