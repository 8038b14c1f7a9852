import { ToolError, type ToolErrorCode } from '../errors.js'
import type { CallRecord } from '../observability/call-record.js'
import type { Route, RouteTarget } from '../routing/routing-table.js'
import { observedCall, type UpstreamOperation } from './observed-call.js'
import type { UpstreamContext } from './tool.js'

// Failures another provider or model may not have: the upstream's state, not the request's content.
const fallBackOn: ReadonlySet<ToolErrorCode> = new Set([
  'circuit_open', 'provider_saturated', 'rate_limited', 'upstream_unavailable', 'timeout', 'upstream_auth', 'quota_exceeded', 'upstream_invalid_response',
])

/**
 * A call for a model, along its route: the first target, then each fallback in turn when the one
 * before failed in a way another may not (its retries exhausted, its circuit open, saturated,
 * overloaded), all within one deadline. Never passed on once the client has seen part of an
 * answer. `canTake` leaves out fallbacks that cannot serve this request (another API, another
 * provider's stored response).
 */
export async function routedCall<T> (
  context: UpstreamContext,
  route: Route,
  operation: UpstreamOperation,
  call: (target: RouteTarget, signal: AbortSignal) => Promise<T>,
  canTake: (target: RouteTarget) => boolean = () => true
): Promise<{ value: T, target: RouteTarget }> {
  const { record, progress, metrics, log, settings } = context
  record.routed(route.requested)
  const budgetMs = Math.min(operation.timeoutMs ?? settings.UPSTREAM_TIMEOUT_MS, settings.UPSTREAM_TIMEOUT_MS)
  const started = performance.now()
  const [first, ...fallbacks] = route.targets
  const targets = [first, ...fallbacks.filter(canTake)]
  // Ends by returning an answer or throwing the last failure.
  for (let index = 0; ; index++) {
    const target = targets[index] as RouteTarget
    const shownBefore = progress.streamedCharacters
    const attempt = (outcome: 'ok' | ToolErrorCode) => record.attempted({ provider: target.provider.name, model: target.model, outcome })
    try {
      // The first target has the whole budget (the router's own work before it is not the upstream's
      // time), so its timeout names the limit the caller set; a fallback has what is left of it.
      const remainingMs = index === 0 ? budgetMs : Math.max(1, Math.round(budgetMs - (performance.now() - started)))
      const value = await observedCall(context, target, { ...operation, timeoutMs: remainingMs }, (signal) => call(target, signal))
      attempt('ok')
      return { value, target }
    } catch (err) {
      const error = err as ToolError
      attempt(error.code)
      if (error.code === 'circuit_open') context.clientLog.write('warning', error.message, { provider: target.provider.name, model: target.model, errorCode: error.code })
      const next = targets[index + 1]
      const passOn = next && fallBackOn.has(error.code) && !context.signal.aborted &&
        progress.streamedCharacters === shownBefore && performance.now() - started < budgetMs
      if (!passOn) throw index === 0 ? error : withAttempts(error, record)
      const from = `${target.provider.name}/${target.model}`
      const to = `${next.provider.name}/${next.model}`
      metrics.fallback({ from: target.provider.name, to: next.provider.name, reason: error.code })
      log.warn({ provider: target.provider.name, model: target.model, fallbackProvider: next.provider.name, fallbackModel: next.model, errorCode: error.code }, `falling back from ${from} to ${to}: ${error.code}`)
      context.clientLog.write('warning', `${from} failed (${error.code}); falling back to ${to}`, { provider: target.provider.name, model: target.model, fallbackProvider: next.provider.name, fallbackModel: next.model, errorCode: error.code })
      progress.status(`${from} failed (${error.code}); trying ${to}`)
    }
  }
}

/** The last failure, saying what was tried before it. */
function withAttempts (error: ToolError, record: CallRecord): ToolError {
  const tried = record.attempts.map(({ provider, model, outcome }) => `${provider}/${model} (${outcome})`).join(', ')
  return new ToolError(error.code, `${error.message} Tried in turn: ${tried}.`, error.details)
}
