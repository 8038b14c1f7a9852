import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload, type RemoteJWKSet } from 'jose'
import { fetchBounded } from './bounded-fetch.js'
import type { Client } from './client-keys.js'
import type { OAuthConfig } from './oauth-config.js'

/**
 * Why a token was not accepted, as RFC 6750 answers it: 401 invalid_token, 403 insufficient_scope,
 * or 503 when the keys cannot be had.
 */
export type TokenRefusal =
  | { status: 401, error: 'invalid_token', description: string }
  | { status: 403, error: 'insufficient_scope', description: string, scope: string }
  | { status: 403, error: undefined, description: string }
  | { status: 503, error: undefined, description: string }

export type TokenOutcome = { client: Client, principal: string } | TokenRefusal

const DISCOVERY_TIMEOUT_MS = 5000
// jose refetches the JWKS for a kid it does not know (a rotated key), at most once per cooldown;
// the router starts over (discovery, then the JWKS) after a failure the keys may be to blame for,
// as rarely: short enough that a rotation or a repaired key set is picked up within seconds, long
// enough that forged tokens cannot flood the issuer.
export const JWKS_COOLDOWN_MS = 5000
const KEYS_SETTING = 'OAUTH_MAX_DOCUMENT_BYTES'

/**
 * The router as an OAuth 2.1 resource server: verifies JWT access tokens against the issuer's
 * JWKS (found by discovery unless OAUTH_JWKS_URL names it), and maps each principal to a client entry.
 */
export class AccessTokens {
  readonly #config: OAuthConfig
  readonly #clientNamed: (name: string) => Client | undefined
  readonly #now: () => number
  #jwks: Promise<RemoteJWKSet> | undefined
  /**
   * When the key set in use was looked up (discovery included): it is not dropped again sooner than
   * JWKS_COOLDOWN_MS after.
   */
  #jwksSince = Number.NEGATIVE_INFINITY

  constructor (config: OAuthConfig, clientNamed: (name: string) => Client | undefined, now: () => number = Date.now) {
    this.#config = config
    this.#clientNamed = clientNamed
    this.#now = now
  }

  /** The client a bearer token stands for, or why it is refused. */
  async authenticate (token: string): Promise<TokenOutcome> {
    const { requiredScopes } = this.#config
    let payload: JWTPayload
    try {
      payload = await this.#verify(token)
    } catch (err) {
      if (isKeySetFailure(err)) {
        return { status: 503, error: undefined, description: `the authorization server's keys cannot be fetched (${errorMessage(err)}); retry later` }
      }
      return { status: 401, error: 'invalid_token', description: whyInvalid(err) }
    }
    const scopes = scopesOf(payload)
    const missing = requiredScopes.filter((scope) => !scopes.has(scope))
    if (missing.length > 0) {
      return { status: 403, error: 'insufficient_scope', scope: requiredScopes.join(' '), description: `the token lacks the scope${missing.length === 1 ? '' : 's'} ${missing.join(' ')}` }
    }
    const names = claimValues(payload[this.#config.principalClaim])
    const principal = names[0]
    if (principal === undefined) return { status: 401, error: 'invalid_token', description: `the token has no ${this.#config.principalClaim} claim (OAUTH_PRINCIPAL_CLAIM)` }
    const entry = names.map(this.#clientNamed).find((client) => client !== undefined) ??
      (this.#config.defaultClient === undefined ? undefined : this.#clientNamed(this.#config.defaultClient))
    if (!entry) return { status: 403, error: undefined, description: `${this.#config.principalClaim} "${principal}" has no client entry at this router; ask its operator for access` }
    return { client: { ...entry, scopes, principal }, principal }
  }

  /** Whether the issuer's keys can be had now: fetched within the cache's age, or fetched again on asking. */
  async keysReachable (): Promise<boolean> {
    try {
      const jwks = await this.#keySet()
      if (!jwks.fresh) await jwks.reload()
      return true
    } catch {
      return false
    }
  }

  /**
   * The token's payload, verified against the issuer's keys. A failure the keys may be to blame for
   * (they cannot be fetched or used, or the signature does not verify against them) drops the key
   * set, at most once per JWKS_COOLDOWN_MS, and verifies once more against a fresh one: a bad
   * key set, or discovery that named a bad one, is not kept once the issuer serves good keys.
   */
  async #verify (token: string): Promise<JWTPayload> {
    const { issuer, audiences, algorithms, clockSkewS } = this.#config
    const verify = async () => (await jwtVerify(token, await this.#keySet(), { issuer, audience: audiences, algorithms, clockTolerance: clockSkewS, requiredClaims: ['exp'] })).payload
    try {
      return await verify()
    } catch (err) {
      const keysToBlame = isKeySetFailure(err) ||
        err instanceof errors.JWSSignatureVerificationFailed ||
        err instanceof errors.JWKSNoMatchingKey
      if (!keysToBlame || this.#now() - this.#jwksSince < JWKS_COOLDOWN_MS) throw err
      this.#jwks = undefined
      return verify()
    }
  }

  #keySet (): Promise<RemoteJWKSet> {
    if (!this.#jwks) {
      this.#jwksSince = this.#now()
      const keysFetch = async (url: string, init: RequestInit) =>
        fetchBounded(url, init, this.#config.maxDocumentBytes, KEYS_SETTING)
      this.#jwks = this.#jwksUrl().then((url) => createRemoteJWKSet(new URL(url), {
        cooldownDuration: JWKS_COOLDOWN_MS,
        timeoutDuration: DISCOVERY_TIMEOUT_MS,
        [customFetch]: keysFetch,
      }))
      // A failed discovery is tried again by the next request, not remembered.
      this.#jwks.catch(() => { this.#jwks = undefined })
    }
    return this.#jwks
  }

  async #jwksUrl (): Promise<string> {
    if (this.#config.jwksUrl) return this.#config.jwksUrl
    const issuer = new URL(this.#config.issuer)
    const path = issuer.pathname.replace(/\/+$/, '')
    // RFC 8414 inserts the well-known part before the issuer's path; OpenID Connect appends it.
    const candidates = [`${issuer.origin}/.well-known/oauth-authorization-server${path}`, `${issuer.origin}${path}/.well-known/openid-configuration`]
    const failures: string[] = []
    for (const url of candidates) {
      try {
        const response = await fetchBounded(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), headers: { accept: 'application/json' } }, this.#config.maxDocumentBytes, KEYS_SETTING)
        if (!response.ok) {
          failures.push(`${url}: HTTP ${response.status}`)
          continue
        }
        const metadata = await response.json() as { issuer?: unknown, jwks_uri?: unknown }
        // RFC 8414 section 3.3: metadata for another issuer is not this issuer's.
        if (metadata.issuer !== this.#config.issuer) throw new Error(`${url} names issuer ${JSON.stringify(metadata.issuer)}, not ${this.#config.issuer}`)
        if (typeof metadata.jwks_uri !== 'string') throw new Error(`${url} has no jwks_uri`)
        return metadata.jwks_uri
      } catch (err) {
        failures.push(`${url}: ${errorMessage(err)}`)
      }
    }
    throw new Error(`no authorization server metadata (${failures.join('; ')}); set OAUTH_JWKS_URL`)
  }
}

/** `scope` (RFC 8693/9068: space-separated) or `scp` (Entra ID, Okta: a list or a string). */
function scopesOf (payload: JWTPayload): Set<string> {
  return new Set([payload.scope, payload.scp].flatMap((claim) => typeof claim === 'string' ? claim.split(' ') : claimValues(claim)).filter(Boolean))
}

function claimValues (claim: unknown): string[] {
  if (typeof claim === 'string') return claim === '' ? [] : [claim]
  return Array.isArray(claim) ? claim.filter((value): value is string => typeof value === 'string' && value !== '') : []
}

function whyInvalid (err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired; get a new one'
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'the token is not meant for this resource (aud)'
    if (err.claim === 'iss') return 'the token is from another issuer (iss)'
    if (err.claim === 'nbf') return 'the token is not valid yet (nbf)'
    return `the token's ${err.claim} claim is not acceptable: ${err.reason}`
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm this router does not accept (OAUTH_ALGORITHMS)'
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the token\'s signature does not verify'
  if (err instanceof errors.JWKSNoMatchingKey) return 'the token is signed with a key the issuer does not publish'
  return 'the token is not a valid JWT access token'
}

/**
 * Whether verification failed for want of usable keys rather than for the token: the key set
 * could not be fetched (unreachable, too large, not 200, not JSON, no JWK set) or a key of it
 * could not be used. jose's base JOSEError is what its fetch throws for a status or a body.
 */
function isKeySetFailure (err: unknown): boolean {
  if (!(err instanceof Error)) return false
  if (!(err instanceof errors.JOSEError)) return true
  return err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || err.code === errors.JOSEError.code
}

function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
