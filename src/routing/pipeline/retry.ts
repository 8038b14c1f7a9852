import { setTimeout as sleep } from 'node:timers/promises'
import type { ToolError } from '../../errors.js'
import { UpstreamStatusError } from '../../upstream/errors.js'
import type { RetrySettings, ShownToClient } from './call-scope.js'
import { upstreamFailure, type UpstreamCall } from './upstream-call.js'

export interface UpstreamRetry {
  /** The attempt about to be made: 1 for the first retry. */
  attempt: number
  delayMs: number
  /** Why the last attempt failed. */
  error: ToolError
}

export interface RetryOptions extends RetrySettings {
  shown: ShownToClient
  onRetry: (retry: UpstreamRetry, call: UpstreamCall) => void
  /** Waits between attempts; tests pass their own. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<unknown>
  /** Where in the backoff a wait falls (full jitter); tests pass their own. */
  random?: () => number
}

const MAX_BACKOFF_MS = 10_000

/**
 * The router's one retry policy: rate limits and transient failures are tried again, after an
 * exponential backoff with full jitter or the upstream's own `Retry-After`, never past the
 * deadline and never once the client has seen part of the answer.
 */
export function retry (options: RetryOptions) {
  const { maxRetries, baseDelayMs, shown, onRetry, sleep: wait = defaultSleep, random = Math.random } = options
  /** How long to wait before the next attempt, or `undefined` when the failure is not worth another. */
  const delayAfter = (error: ToolError, attempt: number, shownBefore: number, signal: AbortSignal) => {
    if (attempt >= maxRetries || signal.aborted) return undefined
    if (error.code !== 'rate_limited' && error.code !== 'upstream_unavailable') return undefined
    if (!error.details.retryable || shown.streamedCharacters !== shownBefore) return undefined
    const requested = error instanceof UpstreamStatusError ? error.retryAfterMs : undefined
    return requested ?? Math.round(random() * Math.min(baseDelayMs * 2 ** attempt, MAX_BACKOFF_MS))
  }
  return async <Call extends UpstreamCall, T>(call: Call, next: (call: Call) => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      const shownBefore = shown.streamedCharacters
      try {
        return await next(call)
      } catch (err) {
        // The attempt inside has made it a ToolError.
        const error = err as ToolError
        const delayMs = delayAfter(error, attempt, shownBefore, call.signal)
        if (delayMs === undefined || delayMs >= call.deadline.remainingMs()) throw error
        onRetry({ attempt: attempt + 1, delayMs, error }, call)
        await wait(delayMs, call.signal).catch(() => {
          throw upstreamFailure(call.signal.reason, call)
        })
      }
    }
  }
}

async function defaultSleep (ms: number, signal: AbortSignal): Promise<unknown> {
  return sleep(ms, undefined, { signal })
}
