import { ToolError, type ToolErrorCode } from '../../errors.js'
import type { RouteAttempt } from '../../observability/call-record.js'
import type { ShownToClient } from './call-scope.js'
import type { RoutedTarget, UpstreamCall } from './upstream-call.js'

// Failures another provider or model may not have: the upstream's state, not the request's content.
const fallBackOn: ReadonlySet<ToolErrorCode> = new Set([
  'circuit_open', 'provider_saturated', 'rate_limited', 'upstream_unavailable', 'timeout', 'upstream_auth', 'quota_exceeded',
  'upstream_invalid_response',
])

export interface FallbackOptions<Target extends RoutedTarget> {
  /** The first target, then its fallbacks in order. */
  targets: readonly [Target, ...Target[]]
  shown: ShownToClient
  /** Every target the tool call tried so far, for the message of the last failure. */
  attempts: readonly RouteAttempt[]
  attempted: (target: Target, outcome: 'ok' | ToolError) => void
  fellBack: (target: Target, next: Target, error: ToolError) => void
}

/**
 * A call along its route: the first target, then each fallback in turn when the one before failed
 * in a way another may not (its retries exhausted, its circuit open, saturated, overloaded), while
 * the call's deadline lasts. Never passed on once the client has seen part of an answer, or once
 * the caller stopped it.
 */
export function fallback<Target extends RoutedTarget> (options: FallbackOptions<Target>) {
  const { targets, shown, attempts, attempted, fellBack } = options
  return async <Call extends UpstreamCall<Target>, T>(call: Call, next: (call: Call) => Promise<T>): Promise<T> => {
    // Ends by returning an answer or throwing the last failure.
    for (let index = 0; ; index++) {
      const target = targets[index] as Target
      const shownBefore = shown.streamedCharacters
      try {
        const value = await next({ ...call, target })
        attempted(target, 'ok')
        return value
      } catch (err) {
        // The policies inside have made it a ToolError.
        const error = err as ToolError
        attempted(target, error)
        const following = targets[index + 1]
        const passOn = following && fallBackOn.has(error.code) && !call.signal.aborted &&
          shown.streamedCharacters === shownBefore && !call.deadline.passed
        if (!passOn) throw index === 0 ? error : withAttempts(error, attempts)
        fellBack(target, following, error)
      }
    }
  }
}

/** The last failure, saying what was tried before it. */
function withAttempts (error: ToolError, attempts: readonly RouteAttempt[]): ToolError {
  const tried = attempts.map(({ provider, model, outcome }) => `${provider}/${model} (${outcome})`).join(', ')
  return new ToolError(error.code, `${error.message} Tried in turn: ${tried}.`, error.details)
}
