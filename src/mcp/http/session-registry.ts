import type { InitializeRequest } from '@modelcontextprotocol/server'
import type { SharedRedis } from '../../shared-state/shared-redis.js'

export interface SessionRecord {
  /** The client whose key opened the session (null when the router runs open): only it may continue the session. */
  client: string | null
  /** What the client sent to open it, which another replica replays to take the session over. */
  initialize: InitializeRequest['params']
}

/**
 * The stateful sessions open on any replica (MCP_EVENT_STORE=redis), so a request for a session
 * this replica has never seen can take it over. Entries expire after the idle time, renewed as
 * the session is used; a DELETE removes one. Without Redis, sessions stay with their replica.
 */
export class SessionRegistry {
  constructor (private readonly redis: SharedRedis, private readonly idleMs: number) {}

  async save (sessionId: string, record: SessionRecord): Promise<void> {
    await this.redis.orLocal(async (client) => { await client.set(this.#key(sessionId), JSON.stringify(record), 'PX', this.idleMs) }, () => undefined)
  }

  /** The session was used: it stays known for another idle time. */
  async renew (sessionId: string): Promise<void> {
    const key = this.#key(sessionId)
    await this.redis.orLocal(async (client) => { await client.pexpire(key, this.idleMs) }, () => undefined)
  }

  async find (sessionId: string): Promise<SessionRecord | undefined> {
    const stored = await this.redis.orLocal(async (client) => client.get(this.#key(sessionId)), () => null)
    return stored === null ? undefined : JSON.parse(stored) as SessionRecord
  }

  async remove (sessionId: string): Promise<void> {
    await this.redis.orLocal(async (client) => { await client.del(this.#key(sessionId)) }, () => undefined)
  }

  #key (sessionId: string): string {
    return this.redis.key('session', sessionId)
  }
}
