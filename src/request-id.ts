import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export const REQUEST_ID_HEADER = 'x-request-id'

// Long or odd ids from clients would pollute logs and upstream headers; such ids are replaced.
const acceptableRequestId = /^[\w.:-]{1,128}$/

/**
 * Fastify's `genReqId`: the client's `x-request-id` when it is a sane token, a new UUID otherwise.
 * The same id is logged on every line of the call and sent upstream as `X-Client-Request-Id`.
 */
export function requestIdFor (req: IncomingMessage): string {
  const offered = req.headers[REQUEST_ID_HEADER]
  return typeof offered === 'string' && acceptableRequestId.test(offered) ? offered : randomUUID()
}
