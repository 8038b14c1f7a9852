import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type RemoteJWKSet } from 'jose'
import type { Client } from './client-keys.js'
import type { OAuthConfig } from './oauth-config.js'

/** Why a token was not accepted, as RFC 6750 answers it: 401 invalid_token, 403 insufficient_scope, or 503 when the keys cannot be had. */
export type TokenRefusal =
  | { status: 401, error: 'invalid_token', description: string }
  | { status: 403, error: 'insufficient_scope', description: string, scope: string }
  | { status: 403, error: undefined, description: string }
  | { status: 503, error: undefined, description: string }

export type TokenOutcome = { client: Client, principal: string } | TokenRefusal

const DISCOVERY_TIMEOUT_MS = 5000
// jose refetches the JWKS for a kid it does not know (a rotated key), at most once per cooldown:
// short enough that a rotation is picked up within seconds, long enough that forged kids cannot flood the issuer.
const JWKS_COOLDOWN_MS = 5000

/**
 * The router as an OAuth 2.1 resource server: verifies JWT access tokens against the issuer's
 * JWKS (found by discovery unless OAUTH_JWKS_URL names it), and maps each principal to a client entry.
 */
export class AccessTokens {
  readonly #config: OAuthConfig
  readonly #clientNamed: (name: string) => Client | undefined
  #jwks: Promise<RemoteJWKSet> | undefined

  constructor (config: OAuthConfig, clientNamed: (name: string) => Client | undefined) {
    this.#config = config
    this.#clientNamed = clientNamed
  }

  /** The client a bearer token stands for, or why it is refused. */
  async authenticate (token: string): Promise<TokenOutcome> {
    const { issuer, audiences, algorithms, clockSkewS, requiredScopes } = this.#config
    let jwks: RemoteJWKSet
    try {
      jwks = await this.#keySet()
    } catch (err) {
      return { status: 503, error: undefined, description: `the authorization server's keys cannot be fetched (${errorMessage(err)}); retry later` }
    }
    let payload: JWTPayload
    try {
      ({ payload } = await jwtVerify(token, jwks, { issuer, audience: audiences, algorithms, clockTolerance: clockSkewS, requiredClaims: ['exp'] }))
    } catch (err) {
      if (err instanceof errors.JWKSTimeout || (err instanceof Error && !(err instanceof errors.JOSEError))) {
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
    return { client: { ...entry, scopes }, principal }
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

  #keySet (): Promise<RemoteJWKSet> {
    this.#jwks ??= this.#jwksUrl().then((url) => createRemoteJWKSet(new URL(url), { cooldownDuration: JWKS_COOLDOWN_MS, timeoutDuration: DISCOVERY_TIMEOUT_MS }))
    // A failed discovery is tried again by the next request, not remembered.
    this.#jwks.catch(() => { this.#jwks = undefined })
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
        const response = await fetch(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), headers: { accept: 'application/json' } })
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

function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
