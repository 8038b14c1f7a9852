import { createHash, timingSafeEqual } from 'node:crypto'
import type { Glob } from '../glob.js'
import { modelGlobs } from '../model-name.js'
import type { ClientConfig, TokenLimits, UsdLimits } from './client-config.js'

/** A client as calls carry it: its name (for logs and metrics, never its key) and its limits. */
export interface Client {
  name: string
  /** The globs of its allow-list, as configured, and compiled; undefined: any model the router allows. */
  models: { globs: string[], patterns: Glob[] } | undefined
  requestsPerMinute: number | undefined
  tokens: TokenLimits
  /** Whether its key may read the status page (`operator: true` in the clients file). */
  operator: boolean
  /** Whether it has a key of its own; false: an entry for OAuth principals only. */
  hasKey: boolean
  usd: UsdLimits
  /** The scopes its OAuth access token granted; undefined for a client key, which may call every tool. */
  scopes?: ReadonlySet<string> | undefined
  /** Who signed in with that token (its OAUTH_PRINCIPAL_CLAIM value); undefined for a client key. */
  principal?: string | undefined
}

/** Why a request was refused: the `error` of its `WWW-Authenticate` header (RFC 6750), and what to do, for a person. */
export interface AuthenticationFailure {
  error: 'invalid_request' | 'invalid_token' | undefined
  description: string
}

export function hashKey (key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest()
}

// RFC 6750's b64token, after the scheme.
const bearer = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

/** The credential of an `Authorization: Bearer` header; undefined when the header is not one. */
export function bearerCredential (authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : bearer.exec(authorization)?.[1]
}

/** The clients allowed to call the router, recognised by the SHA-256 of their bearer key. */
export class ClientKeys {
  #clients: Array<{ client: Client, keyHashes: Buffer[] }> = []

  constructor (clients: ClientConfig[]) {
    this.replace(clients)
  }

  /** Puts a new list in force (a reload); requests already authenticated keep the client they got. */
  replace (clients: ClientConfig[]): void {
    this.#clients = clients.map(({ keyHashes, models, ...client }) => ({
      client: {
        ...client,
        hasKey: keyHashes.length > 0,
        models: models && { globs: models, patterns: modelGlobs(models) },
      },
      keyHashes,
    }))
  }

  /** The client entry of this name (an OAuth principal's, OAUTH_PRINCIPAL_CLAIM), as the list in force has it. */
  named (name: string): Client | undefined {
    return this.#clients.find(({ client }) => client.name === name)?.client
  }

  /** Every client entry of the list in force, in the order configured. */
  list (): Client[] {
    return this.#clients.map(({ client }) => client)
  }

  get size (): number {
    return this.#clients.length
  }

  /** The client whose key the `Authorization` header carries, or why there is none. */
  authenticate (authorization: string | undefined): Client | AuthenticationFailure {
    if (authorization === undefined || authorization === '') {
      return { error: undefined, description: 'send your client key as "Authorization: Bearer <key>"' }
    }
    const key = bearerCredential(authorization)
    if (key === undefined) {
      return { error: 'invalid_request', description: 'the Authorization header must be "Bearer <key>"' }
    }
    const presented = hashKey(key)
    let found: Client | undefined
    // Every hash is compared, whichever matches: the time taken says nothing about which key is close.
    for (const { client, keyHashes } of this.#clients) {
      for (const hash of keyHashes) {
        if (timingSafeEqual(hash, presented)) found = client
      }
    }
    return found ?? { error: 'invalid_token', description: 'the key is not one of this router\'s client keys' }
  }
}

export function isAuthenticationFailure (value: Client | AuthenticationFailure): value is AuthenticationFailure {
  return 'description' in value
}
