import { upstreamFailure, type UpstreamCall } from './upstream-call.js'

/** One attempt: whatever it throws leaves as a {@link ToolError} a person can act on, for the policies around it. */
export async function attempt<Call extends UpstreamCall, T> (call: Call, next: (call: Call) => Promise<T>): Promise<T> {
  try {
    return await next(call)
  } catch (err) {
    throw upstreamFailure(err, call)
  }
}
