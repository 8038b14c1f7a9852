import { LinkedAbortController } from '../../linked-abort.js'
import type { UpstreamCall } from './upstream-call.js'

/**
 * Bounds a call to one target in time, the whole of it (every attempt, every wait between them, a
 * streamed body included): what is left of the call's deadline, no more than the provider's own
 * timeout. Inside it the call's signal also stops at that deadline.
 */
export async function timeLimit<Call extends UpstreamCall, T> (
  call: Call,
  next: (call: Call) => Promise<T>
): Promise<T> {
  const deadline = call.deadline.narrowed(call.target.provider.config.timeoutMs)
  // A timer cleared when the call ends, not AbortSignal.timeout: that one lives (with the signals
  // combined with it) for the whole timeout, minutes of every finished call's garbage under load.
  const controller = new LinkedAbortController([call.signal])
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = !controller.signal.aborted
    controller.abort(new DOMException('The upstream call timed out', 'TimeoutError'))
  }, deadline.limitMs)
  try {
    return await next({ ...call, signal: controller.signal, deadline, pastDeadline: () => timedOut })
  } finally {
    clearTimeout(timer)
    controller.unlink()
  }
}
