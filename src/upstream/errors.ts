import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai'
import { REDACTED } from '../access/router-keys.js'
import { ToolError, type ToolErrorCode, type ToolErrorDetails } from '../errors.js'
import { maskedUrl } from '../masked-url.js'
import { UpstreamBodyBroken } from './upstream-fetch.js'

/** What a failure's message needs to know about the call it ended. */
export interface UpstreamFailureContext {
  /** What the router was doing, for the message: "chat with gpt-4.1-mini", "listing models". */
  operation: string
  /** The model the call named, when it named one: a 404 then means the model is unknown. */
  model?: string
  /** The stored object the call names, when it names one: a 404 then means it does not exist ("response resp_1"). */
  resource?: string
  baseURL: string
  /**
   * The API the call went to, when it names a model: a 404 there is an unknown model or a missing
   * API, as the body says.
   */
  endpoint?: UpstreamEndpoint
  /** How the router's settings name this upstream's key, URL and API, for messages an operator acts on. */
  settingNames?: SettingNames
  /** The limit for the whole call, every attempt and every wait between them included. */
  timeoutMs: number
  signal: AbortSignal
}

export interface SettingNames {
  key: string
  baseURL: string
  /** The setting that picks chat's API: UPSTREAM_API, or a provider's `api` in ROUTER_CONFIG. */
  api: string
}

const ENVIRONMENT_SETTINGS: SettingNames = { key: 'OPENAI_API_KEY', baseURL: 'OPENAI_BASE_URL', api: 'UPSTREAM_API' }

/** The upstream APIs a tool call reaches, which an OpenAI-compatible server may lack. */
export type UpstreamEndpoint = 'responses' | 'chat_completions' | 'embeddings' | 'images'

const ENDPOINTS: Record<UpstreamEndpoint, { request: string, name: string }> = {
  responses: { request: 'POST /responses', name: 'Responses API' },
  chat_completions: { request: 'POST /chat/completions', name: 'Chat Completions API' },
  embeddings: { request: 'POST /embeddings', name: 'embeddings API' },
  images: { request: 'POST /images/generations', name: 'image generation API' },
}

/**
 * Whether a 404 answer is about the model the call named. OpenAI says so with the code
 * `model_not_found`, compatible servers (vLLM, Ollama, LiteLLM) in words naming the model; a
 * server without the API answers its web framework's "Not Found" or an "Invalid URL" naming the path.
 */
function isUnknownModel (err: APIError): boolean {
  return err.code === 'model_not_found' || /\bmodel\b/i.test(upstreamMessage(err))
}

/**
 * What an upstream's refusal means when it says it lacks `endpoint` (a 404 or 405 not about a
 * model); undefined otherwise.
 */
export function lackedEndpoint (
  err: unknown,
  endpoint: UpstreamEndpoint,
  baseURL: string,
  settings: SettingNames
): string | undefined {
  if (!(err instanceof APIError) || (err.status !== 404 && err.status !== 405) || isUnknownModel(err)) return undefined
  return missingEndpoint(endpoint, baseURL, `HTTP ${err.status}: ${upstreamMessage(err)}`, settings)
}

/**
 * Why a call to an API the upstream does not have failed, saying which setting to change; also
 * what /ready reports for a provider whose chat API is missing.
 */
function missingEndpoint (
  endpoint: UpstreamEndpoint,
  baseURL: string,
  said: string,
  settings: SettingNames = ENVIRONMENT_SETTINGS
): string {
  const { request, name } = ENDPOINTS[endpoint]
  const remedy = {
    responses: `If it offers Chat Completions only, as many OpenAI-compatible servers do, set the router's ${settings.api} to chat_completions; otherwise ${settings.baseURL} may be wrong.`,
    chat_completions: `The router's ${settings.baseURL} may be wrong (it names the API's base, often ending in /v1), or the server offers the Responses API only (${settings.api}=responses).`,
    embeddings: `It cannot serve embed: route embedding models to a provider that has the API (ROUTER_CONFIG), or check ${settings.baseURL}.`,
    images: `It cannot serve generate_image: route image models to a provider that has the API (ROUTER_CONFIG), or check ${settings.baseURL}.`,
  }[endpoint]
  return `The upstream at ${maskedUrl(baseURL)} has no ${name} (${request} answered ${said}). ${remedy}`
}

/**
 * A transient failure the upstream answered with a status (429, 5xx), with the wait it asked for
 * (`Retry-After`) to the millisecond, which the retry policy honours. The wait stays off the
 * error's own fields, so logs and the client's `_meta.error` see a plain {@link ToolError}.
 */
export class UpstreamStatusError extends ToolError {
  readonly #retryAfterMs: number | undefined

  constructor (code: ToolErrorCode, message: string, details: ToolErrorDetails, retryAfterMs: number | undefined) {
    super(code, message, details)
    this.#retryAfterMs = retryAfterMs
  }

  get retryAfterMs (): number | undefined {
    return this.#retryAfterMs
  }
}

/** Whatever an upstream call threw, as a {@link ToolError} a person can act on. */
export function toToolError (err: unknown, context: UpstreamFailureContext, pastDeadline: boolean): ToolError {
  if (pastDeadline || err instanceof APIConnectionTimeoutError) {
    return new ToolError('timeout', `The upstream did not finish ${context.operation} within ${context.timeoutMs} ms. Retry, ask for a shorter answer, or allow more time (the \`timeout_ms\` argument, up to UPSTREAM_TIMEOUT_MS).`, { retryable: true })
  }
  if (err instanceof ToolError) return err
  const cancelled = err instanceof APIUserAbortError || context.signal.aborted
  if (cancelled) return cancelledError(context.operation, context.signal)
  if (err instanceof APIConnectionError) {
    const cause = describeCause(err.cause)
    return new ToolError('upstream_unavailable', `Cannot reach the upstream at ${maskedUrl(context.baseURL)} for ${context.operation}${cause ? ` (${cause})` : ''}. Retry shortly; if it persists, the router's ${(context.settingNames ?? ENVIRONMENT_SETTINGS).baseURL} or network needs checking.`, { retryable: true })
  }
  if (err instanceof APIError && typeof err.status === 'number') return statusError(err, err.status, context)
  if (err instanceof UpstreamBodyBroken) {
    const cause = describeCause(err.cause)
    return new ToolError('upstream_unavailable', `The upstream's connection broke while it was answering ${context.operation}${cause ? ` (${cause})` : ''}. This is usually temporary: retry shortly.`, { retryable: true })
  }
  // The SDK parses a JSON answer whole: a SyntaxError is the upstream's body, cut short or not JSON.
  if (err instanceof SyntaxError) return invalidResponse(`a body that is not valid JSON for ${context.operation} (${err.message.slice(0, 200)})`)
  return new ToolError('internal_error', `The router failed while ${context.operation}. This is a bug in the router, not in your call; the logs have the details.`, { retryable: false })
}

/** The failure of work stopped by `signal`, with the reason it was stopped for. */
export function cancelledError (operation: string, signal: AbortSignal): ToolError {
  const reason = signal.reason
  const why = reason instanceof Error && reason.message ? reason.message : 'the call was cancelled'
  return new ToolError('cancelled', `Stopped ${operation}: ${why}.`, { retryable: true })
}

function statusError (err: APIError, status: number, context: UpstreamFailureContext): ToolError {
  const said = `HTTP ${status}: ${upstreamMessage(err)}`
  const upstream = { upstreamStatus: status, ...(err.requestID && { upstreamRequestId: err.requestID }) }
  const subject = context.model ? `model "${context.model}"` : 'the request'
  const settings = context.settingNames ?? ENVIRONMENT_SETTINGS
  if (status === 401 || status === 403) {
    return new ToolError('upstream_auth', `The upstream refused the router's credentials for ${context.operation} (${said}). The router's ${settings.key} needs fixing by its operator; retrying will not help.`, { retryable: false, ...upstream })
  }
  // A call naming a model that meets a missing API (404, 405) says which setting sends it there.
  const { model, endpoint, baseURL } = context
  const missing = model && endpoint ? lackedEndpoint(err, endpoint, baseURL, settings) : undefined
  if (missing !== undefined) return new ToolError('upstream_rejected', missing, { retryable: false, ...upstream })
  if (status === 404) {
    if (context.resource) {
      return new ToolError('not_found', `The upstream has no ${context.resource} (${said}). It may have expired or been deleted, or been created with store: false.`, { retryable: false, ...upstream })
    }
    return context.model
      ? new ToolError('model_not_found', `The upstream does not know ${subject} (${said}). Call list_models to see the models you can use.`, { retryable: false, ...upstream })
      : new ToolError('upstream_rejected', `The upstream has no endpoint for ${context.operation} (${said}). The router's ${settings.baseURL} may be wrong.`, { retryable: false, ...upstream })
  }
  if (status === 429) {
    if (err.code === 'insufficient_quota') {
      return new ToolError('quota_exceeded', `The upstream account has no quota left (${said}). Retrying will not help until the account is topped up.`, { retryable: false, ...upstream })
    }
    const retryAfterSeconds = retryAfter(err.headers)
    const when = retryAfterSeconds === undefined ? 'in a little while' : `after ${retryAfterSeconds} s`
    const message = `The upstream is rate limiting ${subject} (${said}). Retry ${when}.`
    const details = { retryable: true, ...(retryAfterSeconds !== undefined && { retryAfterSeconds }), ...upstream }
    return new UpstreamStatusError('rate_limited', message, details, retryAfterMs(err.headers))
  }
  if (status >= 500) {
    const message = `The upstream failed while ${context.operation} (${said}). This is usually temporary: retry shortly.`
    return new UpstreamStatusError('upstream_unavailable', message, { retryable: status !== 501, ...upstream }, retryAfterMs(err.headers))
  }
  return new ToolError('upstream_rejected', `The upstream rejected ${context.operation} (${said}). Change the arguments; sending the same call again will not help.`, { retryable: false, ...upstream })
}

/** The most of an upstream's own message quoted to a client, a log line or /ready: enough to say what went wrong. */
const QUOTED_MESSAGE_CHARS = 1000

/**
 * The upstream's own words, bounded and without a bearer credential: some gateways echo the
 * Authorization header they were sent, and this text reaches clients, logs and the unauthenticated /ready.
 */
function upstreamMessage (err: APIError): string {
  const body = err.error as { message?: unknown } | undefined
  const message = typeof body?.message === 'string' && body.message ? body.message : err.message.replace(/^\d{3}\s*/, '') || 'no details'
  const quoted = message.length > QUOTED_MESSAGE_CHARS ? `${message.slice(0, QUOTED_MESSAGE_CHARS)}… (${message.length - QUOTED_MESSAGE_CHARS} more characters)` : message
  return quoted.replace(/\b(Bearer\s+)[^\s"',;]+/gi, `$1${REDACTED}`)
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
  const milliseconds = retryAfterMs(headers)
  return milliseconds === undefined ? undefined : Math.ceil(milliseconds / 1000)
}

/** `retry-after-ms` or `retry-after`, in milliseconds. */
export function retryAfterMs (headers: Headers | undefined): number | undefined {
  const milliseconds = Number(headers?.get('retry-after-ms'))
  if (headers?.get('retry-after-ms') && Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds
  const value = headers?.get('retry-after')
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

/**
 * A stream that stopped before its answer was complete: says how much had arrived. Cancellation and
 * the deadline keep their own meaning, and so do errors already explained.
 */
export function streamInterrupted (err: unknown, receivedCharacters: number, signal: AbortSignal): unknown {
  if (signal.aborted || err instanceof ToolError) return err
  const why = err instanceof SyntaxError
    ? 'a malformed event'
    : err instanceof APIError ? `the upstream reported: ${upstreamMessage(err)}` : (describeCause(err) ?? 'the connection broke')
  return new ToolError('upstream_unavailable', `The upstream's stream broke off after ${receivedCharacters} characters of the answer (${why}); the partial answer was discarded. Retry the call.`, { retryable: true })
}

export function invalidResponse (what: string): ToolError {
  return new ToolError('upstream_invalid_response', `The upstream sent ${what}; it may not be OpenAI-compatible for this API (UPSTREAM_API).`, { retryable: false })
}
