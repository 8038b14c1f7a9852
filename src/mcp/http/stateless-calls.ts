import { hash } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

type JsonRpcId = string | number

/**
 * Running calls of stateless mode, where a `notifications/cancelled` arrives in its own POST with
 * no session to say whose call it names. A call is matched by its JSON-RPC id and the client's
 * fingerprint (address, forwarding header, User-Agent, credentials), and only when exactly one
 * running call matches: an ambiguous cancellation is ignored rather than stopping someone else's call.
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

export function clientFingerprint (address: string, headers: IncomingHttpHeaders): string {
  return hash('sha256', JSON.stringify([address, headers['x-forwarded-for'] ?? '', headers['user-agent'] ?? '', headers.authorization ?? '']), 'base64url')
}

function callKey (client: string, id: JsonRpcId): string {
  return `${client}:${typeof id}:${id}`
}
