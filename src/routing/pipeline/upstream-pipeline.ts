import type { RouteTarget } from '../routing-table.js'
import { attempt } from './attempt.js'
import type { UpstreamScope } from './call-scope.js'
import { fallback } from './fallback.js'
import { gate } from './gate.js'
import { observation, retryReport, routeReport } from './observation.js'
import { wrap } from './policy.js'
import { retry } from './retry.js'
import { timeLimit } from './time-limit.js'
import { type RoutedTarget, startCall, type UpstreamCall, type UpstreamOperation, type UpstreamTarget } from './upstream-call.js'

/**
 * The policies every upstream call of a tool passes, outermost first: observed (span, metrics,
 * record, log line), bounded by its target's part of the deadline, retried, gated by the
 * provider's breakers and concurrency limit, and each attempt's failure explained.
 */
function targetPolicies (scope: UpstreamScope) {
  return [
    observation(scope),
    timeLimit,
    retry({ ...scope.retry, shown: scope.progress, onRetry: retryReport(scope) }),
    gate,
    attempt,
  ] as const
}

/**
 * A call for a model along its route, through {@link targetPolicies} for each target it goes to:
 * the first, then its fallbacks. `canTake` leaves out fallbacks that cannot serve this request
 * (another API, another provider's stored response).
 */
export async function callRoute<T, Target extends RoutedTarget = RouteTarget> (
  scope: UpstreamScope,
  route: { requested: string, targets: readonly [Target, ...Target[]] },
  operation: UpstreamOperation,
  call: (target: Target, signal: AbortSignal) => Promise<T>,
  canTake: (target: Target) => boolean = () => true
): Promise<{ value: T, target: Target }> {
  scope.record.routed(route.requested)
  const [first, ...fallbacks] = route.targets
  const pipeline = wrap<UpstreamCall<Target>>(
    fallback({
      targets: [first, ...fallbacks.filter(canTake)],
      shown: scope.progress,
      attempts: scope.record.attempts,
      ...routeReport(scope),
    }),
    ...targetPolicies(scope)
  )
  let answered = first
  const start = startCall(operation, first, scope.signal, scope.deadline)
  const value = await pipeline(start, async ({ target, signal }) => {
    const result = await call(target, signal)
    answered = target
    return result
  })
  return { value, target: answered }
}

/** A call to one provider about something it holds (a stored response), through {@link targetPolicies}. */
export async function callProvider<T> (
  scope: UpstreamScope,
  target: UpstreamTarget,
  operation: UpstreamOperation,
  call: (signal: AbortSignal) => Promise<T>
): Promise<T> {
  const pipeline = wrap<UpstreamCall>(...targetPolicies(scope))
  return pipeline(startCall(operation, target, scope.signal, scope.deadline), async ({ signal }) => call(signal))
}
