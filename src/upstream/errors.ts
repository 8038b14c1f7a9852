import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai'
import { ToolError } from '../mcp/tool-error.js'

export interface UpstreamCallContext {
  /** What the router was doing, for the message: "chat with gpt-4.1-mini", "listing models". */
  operation: string
  /** The model the call named, when it named one: a 404 then means the model is unknown. */
  model?: string
  baseURL: string
  timeoutMs: number
  signal: AbortSignal
}

/** Runs one upstream call and turns whatever it throws into a {@link ToolError} a person can act on. */
export async function callUpstream<T> (context: UpstreamCallContext, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    throw toToolError(err, context)
  }
}

export function toToolError (err: unknown, context: UpstreamCallContext): ToolError {
  if (err instanceof ToolError) return err
  if (err instanceof APIUserAbortError || context.signal.aborted) return abortError(context)
  if (err instanceof APIConnectionTimeoutError) {
    return new ToolError('timeout', `The upstream did not answer ${context.operation} within ${context.timeoutMs} ms. Retry, ask for a shorter answer, or raise the time limit (UPSTREAM_TIMEOUT_MS).`, { retryable: true })
  }
  if (err instanceof APIConnectionError) {
    const cause = describeCause(err.cause)
    return new ToolError('upstream_unavailable', `Cannot reach the upstream at ${context.baseURL} for ${context.operation}${cause ? ` (${cause})` : ''}. Retry shortly; if it persists, the router's OPENAI_BASE_URL or network needs checking.`, { retryable: true })
  }
  if (err instanceof APIError && typeof err.status === 'number') return statusError(err, err.status, context)
  return new ToolError('internal_error', `The router failed while ${context.operation}. This is a bug in the router, not in your call; the logs have the details.`, { retryable: false })
}

function abortError (context: UpstreamCallContext): ToolError {
  const reason = context.signal.reason
  const why = reason instanceof Error && reason.message ? reason.message : 'the call was cancelled'
  return new ToolError('cancelled', `Stopped ${context.operation}: ${why}.`, { retryable: true })
}

function statusError (err: APIError, status: number, context: UpstreamCallContext): ToolError {
  const said = `HTTP ${status}: ${upstreamMessage(err)}`
  const upstream = { upstreamStatus: status, ...(err.requestID && { upstreamRequestId: err.requestID }) }
  const subject = context.model ? `model "${context.model}"` : 'the request'
  if (status === 401 || status === 403) {
    return new ToolError('upstream_auth', `The upstream refused the router's credentials for ${context.operation} (${said}). The router's OPENAI_API_KEY needs fixing by its operator; retrying will not help.`, { retryable: false, ...upstream })
  }
  if (status === 404) {
    return context.model
      ? new ToolError('model_not_found', `The upstream does not know ${subject} (${said}). Call list_models to see the models you can use.`, { retryable: false, ...upstream })
      : new ToolError('upstream_rejected', `The upstream has no endpoint for ${context.operation} (${said}). The router's OPENAI_BASE_URL may be wrong.`, { retryable: false, ...upstream })
  }
  if (status === 429) {
    if (err.code === 'insufficient_quota') {
      return new ToolError('quota_exceeded', `The upstream account has no quota left (${said}). Retrying will not help until the account is topped up.`, { retryable: false, ...upstream })
    }
    const retryAfterSeconds = retryAfter(err.headers)
    const when = retryAfterSeconds === undefined ? 'in a little while' : `after ${retryAfterSeconds} s`
    return new ToolError('rate_limited', `The upstream is rate limiting ${subject} (${said}). Retry ${when}.`, { retryable: true, ...(retryAfterSeconds !== undefined && { retryAfterSeconds }), ...upstream })
  }
  if (status >= 500) {
    return new ToolError('upstream_unavailable', `The upstream failed while ${context.operation} (${said}). This is usually temporary: retry shortly.`, { retryable: status !== 501, ...upstream })
  }
  return new ToolError('upstream_rejected', `The upstream rejected ${context.operation} (${said}). Change the arguments; sending the same call again will not help.`, { retryable: false, ...upstream })
}

function upstreamMessage (err: APIError): string {
  const body = err.error as { message?: unknown } | undefined
  if (typeof body?.message === 'string' && body.message) return body.message
  return err.message.replace(/^\d{3}\s*/, '') || 'no details'
}

// fetch wraps the network error (ECONNREFUSED, ENOTFOUND, ...) a level or two down the cause chain.
function describeCause (cause: unknown): string | undefined {
  let detail: string | undefined
  for (let current = cause, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as NodeJS.ErrnoException).code
    if (code) return code
    detail = current.message
  }
  return detail
}

/** `retry-after-ms` (OpenAI's) or `retry-after` (seconds or an HTTP date), in whole seconds. */
export function retryAfter (headers: Headers | undefined): number | undefined {
  const milliseconds = Number(headers?.get('retry-after-ms'))
  if (headers?.get('retry-after-ms') && Number.isFinite(milliseconds) && milliseconds >= 0) return Math.ceil(milliseconds / 1000)
  const value = headers?.get('retry-after')
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000))
}
