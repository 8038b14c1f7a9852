import type { ToolError } from '../../errors.js'
import { type AttemptExit, upstreamFailure, type UpstreamCall } from './upstream-call.js'

/**
 * Each attempt passes its provider's circuit breakers and concurrency limit first, and tells them
 * how it ended. A deadline shorter than the provider's own (the client's `timeout_ms`, what a
 * fallback has left) says nothing about the provider's health when it passes.
 */
export async function gate<Call extends UpstreamCall, T> (call: Call, next: (call: Call) => Promise<T>): Promise<T> {
  const { provider, model } = call.target
  let exit: AttemptExit
  try {
    const countTimeouts = call.deadline.limitMs === provider.config.timeoutMs
    exit = await provider.enter(model, call.signal, { countTimeouts })
  } catch (err) {
    throw upstreamFailure(err, call)
  }
  try {
    const result = await next(call)
    exit(undefined)
    return result
  } catch (err) {
    // The attempt inside has made it a ToolError.
    exit(err as ToolError)
    throw err
  }
}
