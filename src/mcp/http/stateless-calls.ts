import { hash } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

type JsonRpcId = string | number

/**
 * Running calls of stateless mode, where a `notifications/cancelled` arrives in its own POST with
 * no session to say whose call it names. A call is matched by its JSON-RPC id and the caller's
 * fingerprint (see {@link callerFingerprint}), and only when exactly one running call matches: an
 * ambiguous cancellation is ignored rather than stopping someone else's call.
 */
export class StatelessCalls {
  readonly #running = new Map<string, Set<AbortController>>()

  /** Registers a running call; returns the function that forgets it. */
  track (client: string, id: JsonRpcId, controller: AbortController): () => void {
    const key = callKey(client, id)
    const calls = this.#running.get(key) ?? new Set()
    calls.add(controller)
    this.#running.set(key, calls)
    return () => {
      calls.delete(controller)
      if (calls.size === 0) this.#running.delete(key)
    }
  }

  /** Aborts the one call matching, and says whether there was one. */
  cancel (client: string, id: JsonRpcId, reason: string): boolean {
    const calls = this.#running.get(callKey(client, id))
    if (calls?.size !== 1) return false
    const [controller] = calls
    controller?.abort(new Error(reason))
    return true
  }
}

/** Who a request was authenticated as: its client entry, and the OAuth principal when a token was its credential. */
export interface CallerIdentity {
  client: string
  principal?: string | undefined
}

/**
 * What tells one stateless caller from another: who it was authenticated as (a client key's
 * client, an access token's principal, never the credential's text, so a refreshed token is the
 * same caller and no other key or principal ever is), its address (as TRUST_PROXY reads it), its
 * forwarding header and User-Agent. An open router has no identity to go by: callers behind one
 * address with one User-Agent (and the same Authorization header, if they send one) are one
 * caller to it.
 */
export function callerFingerprint (address: string, headers: IncomingHttpHeaders, identity?: CallerIdentity): string {
  const who = identity ? ['authenticated', identity.client, identity.principal ?? ''] : ['open', headers.authorization ?? '']
  return hash('sha256', JSON.stringify([...who, address, headers['x-forwarded-for'] ?? '', headers['user-agent'] ?? '']), 'base64url')
}

function callKey (client: string, id: JsonRpcId): string {
  return `${client}:${typeof id}:${id}`
}
