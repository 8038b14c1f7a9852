import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { bearerCredential, type ClientKeys, isAuthenticationFailure } from '../access/client-keys.js'
import type { AccessTokens } from '../access/oauth.js'
import { SharedSecret } from '../access/shared-secret.js'

/** Who is reading the status page, as its header says: never a key, only which kind of credential let them in. */
export type StatusViewer =
  | { kind: 'open' }
  | { kind: 'metrics_token' }
  | { kind: 'operator', client: string }
  | { kind: 'oauth', principal: string }

export interface StatusRefusal {
  status: 401 | 403 | 503
  reason: string
}

export interface StatusAccessOptions {
  /** METRICS_TOKEN: it opens the status page as it opens /metrics. */
  metricsToken: string | undefined
  clientKeys: ClientKeys | undefined
  accessTokens: AccessTokens | undefined
  /** OAUTH_STATUS_SCOPE: the scope an access token needs to read the page; undefined: access tokens do not. */
  statusScope: string | undefined
  now?: () => number
}

/** How long a browser sign-in lasts. */
export const SESSION_TTL_MS = 8 * 3600_000
const SESSION_LABEL = /^(open|metrics_token|operator:[A-Za-z0-9_.@-]{1,63}|oauth:[\x21-\x7e]{1,200})$/

export function isStatusRefusal (value: StatusViewer | StatusRefusal): value is StatusRefusal {
  return 'status' in value
}

/**
 * Who may read GET /status: the bearer of METRICS_TOKEN, of a client key marked `operator`, or of
 * an OAuth access token with OAUTH_STATUS_SCOPE; anyone only while the router itself is open (no
 * client keys, no OAuth) and METRICS_TOKEN is unset, as with /metrics. A browser signs in once with
 * one of them and carries a session cookie instead: signed, with its expiry, never the credential.
 */
export class StatusAccess {
  readonly #metricsToken: SharedSecret | undefined
  readonly #sessionKey: Buffer
  readonly #now: () => number

  constructor (private readonly options: StatusAccessOptions) {
    this.#metricsToken = options.metricsToken === undefined ? undefined : new SharedSecret(options.metricsToken)
    // Derived from METRICS_TOKEN, every replica holding it accepts the cookies of every other;
    // without it, this process's own.
    this.#sessionKey = options.metricsToken === undefined ? randomBytes(32) : createHmac('sha256', options.metricsToken).update('mcp-openai-router status session').digest()
    this.#now = options.now ?? Date.now
  }

  /** Whether anyone may read the page without a credential: a router open to all, with no METRICS_TOKEN. */
  get open (): boolean {
    return !this.options.clientKeys && !this.#metricsToken
  }

  /**
   * Whether no credential at all can open it (client keys on, and none of METRICS_TOKEN, an
   * operator key, OAUTH_STATUS_SCOPE).
   */
  get closed (): boolean {
    const { clientKeys, accessTokens, statusScope } = this.options
    const hasOperator = clientKeys?.list().some((client) => client.operator) ?? false
    return !this.open && !this.#metricsToken && !hasOperator && !(accessTokens && statusScope)
  }

  /** The viewer a bearer token (from `Authorization: Bearer`, or the sign-in form) stands for, or why it is refused. */
  async authenticate (token: string | undefined): Promise<StatusViewer | StatusRefusal> {
    if (this.open) return { kind: 'open' }
    if (this.closed) return { status: 403, reason: 'client keys are configured, and no credential may read the status page: set METRICS_TOKEN, mark a client as operator: true, or set OAUTH_STATUS_SCOPE' }
    if (token === undefined || token === '') return { status: 401, reason: 'send METRICS_TOKEN, an operator\'s client key or an OAuth access token with the status scope as "Authorization: Bearer <token>", or sign in' }
    if (this.#metricsToken?.matches(token)) return { kind: 'metrics_token' }
    const { clientKeys, accessTokens, statusScope } = this.options
    const client = clientKeys?.authenticate(`Bearer ${token}`)
    if (client && !isAuthenticationFailure(client)) {
      return client.operator ? { kind: 'operator', client: client.name } : { status: 403, reason: `client "${client.name}" is not an operator (operator: true in CLIENT_KEYS_FILE)` }
    }
    if (accessTokens && statusScope && bearerCredential(`Bearer ${token}`) !== undefined) {
      const outcome = await accessTokens.authenticate(token)
      if ('client' in outcome) {
        return outcome.client.scopes?.has(statusScope) ? { kind: 'oauth', principal: outcome.principal } : { status: 403, reason: `the access token lacks the scope ${statusScope} (OAUTH_STATUS_SCOPE)` }
      }
      // A token of the issuer that is refused (expired, another audience, a principal with no
      // client entry) says why itself.
      return { status: outcome.status, reason: outcome.description }
    }
    return { status: 401, reason: 'the token is neither METRICS_TOKEN, an operator\'s client key, nor an access token with the status scope' }
  }

  /** The value of a session cookie for `viewer`, good for {@link SESSION_TTL_MS}. */
  session (viewer: StatusViewer): string {
    const payload = JSON.stringify([labelOf(viewer), this.#now() + SESSION_TTL_MS])
    return `${Buffer.from(payload).toString('base64url')}.${this.#sign(payload)}`
  }

  /** The viewer a session cookie stands for, while it is unexpired, intact, and (an operator's) still an operator. */
  resume (cookie: string | undefined): StatusViewer | undefined {
    if (cookie === undefined || cookie.length > 512) return undefined
    const [encoded = '', mac = ''] = cookie.split('.')
    const payload = Buffer.from(encoded, 'base64url').toString()
    const expected = Buffer.from(this.#sign(payload))
    const presented = Buffer.from(mac)
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined
    const [label, expires] = JSON.parse(payload) as [unknown, unknown]
    if (typeof label !== 'string' || !SESSION_LABEL.test(label) || typeof expires !== 'number' || expires <= this.#now()) return undefined
    const viewer = viewerOf(label)
    if (viewer.kind === 'operator' && !this.options.clientKeys?.named(viewer.client)?.operator) return undefined
    return viewer
  }

  #sign (payload: string): string {
    return createHmac('sha256', this.#sessionKey).update(payload).digest('base64url')
  }
}

function labelOf (viewer: StatusViewer): string {
  switch (viewer.kind) {
    case 'operator': return `operator:${viewer.client}`
    case 'oauth': return `oauth:${viewer.principal}`
    default: return viewer.kind
  }
}

function viewerOf (label: string): StatusViewer {
  if (label.startsWith('operator:')) return { kind: 'operator', client: label.slice('operator:'.length) }
  if (label.startsWith('oauth:')) return { kind: 'oauth', principal: label.slice('oauth:'.length) }
  return { kind: label as 'open' | 'metrics_token' }
}

/** How the page names who is reading it. */
export function describeViewer (viewer: StatusViewer): string {
  switch (viewer.kind) {
    case 'open': return 'anyone (the router is open)'
    case 'metrics_token': return 'METRICS_TOKEN'
    case 'operator': return `operator ${viewer.client}`
    case 'oauth': return `OAuth ${viewer.principal}`
  }
}
