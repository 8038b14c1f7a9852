import { isIP } from 'node:net'

/** What the router gives Fastify's `trustProxy`: no proxy, any peer, or the proxies' addresses. */
export type TrustProxy = boolean | string

/** proxy-addr's names for address ranges, which Fastify accepts among addresses. */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/**
 * TRUST_PROXY as Fastify's `trustProxy`, or `undefined` when it is none of its forms: `false`,
 * `true` (any peer), or a comma-separated list of addresses, CIDR ranges and range names. Not a
 * hop count, which Fastify treats as trusting no one, since it cannot check the nearest peer.
 * Checked here rather than by Fastify, which would throw on a bad address before the
 * configuration could say which setting is wrong.
 */
export function parseTrustProxy (value: string): TrustProxy | undefined {
  const setting = value.trim()
  if (setting === '' || setting === 'false') return false
  if (setting === 'true') return true
  const entries = setting.split(',').map((entry) => entry.trim())
  return entries.every(isTrustedProxy) ? entries.join(',') : undefined
}

function isTrustedProxy (entry: string): boolean {
  if (RANGE_NAMES.has(entry)) return true
  const [address = '', prefix, ...rest] = entry.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  return /^\d+$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)
}
