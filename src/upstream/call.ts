import { setTimeout as sleep } from 'node:timers/promises'
import { APIError } from 'openai'
import type { ToolError } from '../errors.js'
import { LinkedAbortController } from '../linked-abort.js'
import { retryAfterMs, toToolError, type UpstreamFailureContext } from './errors.js'

export interface UpstreamCallContext extends UpstreamFailureContext {
  /** What each attempt must pass first (a circuit breaker, a concurrency limit); it is told how the attempt ended. */
  gate?: AttemptGate
  retry?: RetryPolicy
}

export interface RetryPolicy {
  /** Attempts after the first. */
  maxRetries: number
  /** The first backoff; each retry doubles it, up to {@link MAX_BACKOFF_MS}, and waits a random part of it. */
  baseDelayMs: number
  /**
   * How much the client has been shown of this call so far (streamed characters): a failed attempt
   * after the client saw part of its answer is not repeated, as the client cannot unsee it.
   */
  shownToClient: () => number
  onRetry: (retry: { attempt: number, delayMs: number, error: ToolError }) => void
}

/**
 * The way into an upstream for one attempt. `enter` resolves when the attempt may go, or throws
 * the {@link ToolError} saying why it may not (circuit open, provider saturated); what it resolves
 * with is called once with how the attempt ended (`undefined`: it succeeded).
 */
export interface AttemptGate {
  enter: (signal: AbortSignal) => Promise<(error: ToolError | undefined) => void>
}

const MAX_BACKOFF_MS = 10_000

/**
 * Runs one upstream call within `timeoutMs` (the whole call, a streamed body included) and turns
 * whatever it throws into a {@link ToolError} a person can act on. `call` gets the signal to pass on.
 * Rate limits and transient failures are retried, the one retry policy of the router: exponential
 * backoff with full jitter, or the upstream's own `Retry-After`, never past the call's deadline.
 */
export async function callUpstream<T> (context: UpstreamCallContext, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const startedAt = Date.now()
  // A timer cleared when the call ends, not AbortSignal.timeout: that one lives (with the signals
  // combined with it) for the whole timeout, minutes of every finished call's garbage under load.
  const attempts = new LinkedAbortController([context.signal])
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = !attempts.signal.aborted
    attempts.abort(new DOMException('The upstream call timed out', 'TimeoutError'))
  }, context.timeoutMs)
  const { signal } = attempts
  try {
    for (let attempt = 0; ; attempt++) {
      const shownBefore = context.retry?.shownToClient() ?? 0
      let leave: ((error: ToolError | undefined) => void) | undefined
      try {
        leave = await context.gate?.enter(signal)
        const result = await call(signal)
        leave?.(undefined)
        return result
      } catch (err) {
        const error = toToolError(err, context, timedOut)
        leave?.(error)
        const delayMs = retryDelay(err, error, attempt, context, shownBefore)
        if (delayMs === undefined || Date.now() + delayMs >= startedAt + context.timeoutMs) throw error
        context.retry?.onRetry({ attempt: attempt + 1, delayMs, error })
        await sleep(delayMs, undefined, { signal }).catch(() => {
          throw toToolError(signal.reason, context, timedOut)
        })
      }
    }
  } finally {
    clearTimeout(timer)
    attempts.unlink()
  }
}

/** How long to wait before the next attempt, or `undefined` when the failure is not worth another. */
function retryDelay (err: unknown, error: ToolError, attempt: number, context: UpstreamCallContext, shownBefore: number): number | undefined {
  const { retry } = context
  if (!retry || attempt >= retry.maxRetries || context.signal.aborted) return undefined
  if (error.code !== 'rate_limited' && error.code !== 'upstream_unavailable') return undefined
  if (!error.details.retryable || retry.shownToClient() !== shownBefore) return undefined
  const requested = err instanceof APIError ? retryAfterMs(err.headers) : undefined
  return requested ?? Math.round(Math.random() * Math.min(retry.baseDelayMs * 2 ** attempt, MAX_BACKOFF_MS))
}
