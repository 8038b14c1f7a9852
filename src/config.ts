import { stat } from 'node:fs/promises'
import { type Static, Type } from '@sinclair/typebox'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import proxyAddr from 'proxy-addr'
import { type ClientConfig, loadClientConfig } from './access/client-config.js'
import { type OAuthConfig, parseOAuthConfig } from './access/oauth-config.js'
import { cannotRead, checkConfig, compileConfig, isHttpUrl, readSecretFile } from './config-parsing.js'
import { DEFAULT_DOWNSTREAM_TIMEOUT_MS, DownstreamListSchema, type DownstreamConfig } from './downstream/downstream-config.js'
import { ConfigError } from './errors.js'
import { type ImagePrice, ImagePricesSchema, type ModelPrice, ModelPricesSchema } from './observability/prices.js'
import { loadRoutingConfig, refusePlaceholderKey, type RoutingConfig } from './routing/routing-config.js'
import { StringEnum } from './schemas.js'
import { parseTrustProxy, type TrustProxy } from './trust-proxy.js'
import { describeValidationErrors } from './validation-errors.js'

function HttpUrl (options: { default?: string, description: string }) {
  return Type.String({ format: 'http-url', title: 'an http:// or https:// URL', ...options })
}

const Milliseconds = (options: { default: number, minimum: number, description: string }) => Type.Integer(options)

/**
 * Every setting the router reads, with its default. `.env.example` documents the same list;
 * a test keeps the two in step. (A setting is one named value: an environment variable, or a field
 * of the routing or clients file; the config is what the router makes of them, here and in the
 * `config.ts` of routing/, access/ and downstream/.)
 */
export const ConfigSchema = Type.Object({
  OPENAI_API_KEY: Type.Optional(Type.String({ minLength: 1, description: 'API key sent to the upstream' })),
  OPENAI_API_KEY_FILE: Type.Optional(Type.String({ minLength: 1, description: 'path to a file holding the API key (Docker/Kubernetes secrets)' })),
  OPENAI_BASE_URL: HttpUrl({ default: 'https://api.openai.com/v1', description: 'upstream base URL' }),
  ROUTER_CONFIG: Type.Optional(Type.String({ minLength: 1, description: 'routing file (YAML or JSON): several providers, aliases, fallbacks, allow/deny lists, circuit breakers, concurrency limits; unset: OPENAI_* describe the one provider' })),
  ROUTER_CONFIG_WATCH: Type.Boolean({ default: false, description: 'reload ROUTER_CONFIG when the file changes (SIGHUP always reloads it)' }),
  MODELS_CACHE_TTL_MS: Milliseconds({ minimum: 0, default: 300_000, description: 'how long a provider\'s /models list is fresh; older lists are served while a new one is fetched' }),
  UPSTREAM_API: StringEnum(['responses', 'chat_completions'] as const, { default: 'responses', description: 'upstream API used by chat' }),
  MODEL: Type.String({ minLength: 1, default: 'gpt-4.1-mini', description: 'model used when a call names none' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8000, description: 'port to listen on' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'address to listen on: loopback unless told otherwise (the container image sets 0.0.0.0)' }),
  LOG_LEVEL: StringEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, { default: 'info', description: 'pino log level' }),
  UPSTREAM_TIMEOUT_MS: Milliseconds({ minimum: 1, default: 120_000, description: 'limit for one upstream call' }),
  UPSTREAM_MAX_RETRIES: Type.Integer({ minimum: 0, maximum: 10, default: 2, description: 'retries of a failed upstream call (429, 5xx except 501, connection errors), within UPSTREAM_TIMEOUT_MS' }),
  UPSTREAM_RETRY_BASE_MS: Milliseconds({ minimum: 1, default: 500, description: 'first retry backoff; doubles each retry up to 10 s, a random part of it is waited; Retry-After wins' }),
  UPSTREAM_MAX_BODY_BYTES: Type.Integer({ minimum: 65_536, default: 64 * 1024 * 1024, description: 'most bytes read from one upstream answer, JSON or a whole SSE stream (images and embeddings are the largest); past it the call fails with upstream_invalid_response' }),
  PROGRESS_INTERVAL_MS: Milliseconds({ minimum: 0, default: 50, description: 'streamed answers: shortest time between two progress notifications' }),
  PROGRESS_HEARTBEAT_MS: Milliseconds({ minimum: 100, default: 10_000, description: 'longest silence before a heartbeat progress notification (calls with a progressToken)' }),
  POLL_INTERVAL_MS: Milliseconds({ minimum: 10, default: 2000, description: 'background responses: time between two status checks' }),
  POLL_MAX_MS: Milliseconds({ minimum: 0, default: 60_000, description: 'background responses: how long chat waits before returning the response id to fetch later' }),
  EMBEDDING_MODEL: Type.String({ minLength: 1, default: 'text-embedding-3-small', description: 'model used by embed when a call names none' }),
  IMAGE_MODEL: Type.String({ minLength: 1, default: 'gpt-image-1', description: 'model used by generate_image when a call names none' }),
  MCP_SESSIONS: StringEnum(['stateless', 'stateful'] as const, { default: 'stateless', description: 'MCP session mode' }),
  MCP_SESSION_IDLE_MS: Milliseconds({ minimum: 1000, default: 600_000, description: 'stateful mode: time without a request (and no call running) after which a session is closed, even with its GET stream open' }),
  MCP_MAX_SESSIONS: Type.Integer({ minimum: 1, default: 1000, description: 'stateful mode: most sessions open at once' }),
  MCP_MAX_SESSIONS_PER_CLIENT: Type.Integer({ minimum: 1, default: 100, description: 'stateful mode: most sessions one client key (one address when the router is open) may hold at once' }),
  MCP_EVENT_STORE: StringEnum(['none', 'memory', 'redis'] as const, { default: 'none', description: 'stateful mode: where SSE events are kept so a client can resume a broken stream with Last-Event-ID (memory: on the same replica; redis: on any replica, which also takes the session over)' }),
  MCP_EVENT_TTL_S: Type.Integer({ minimum: 1, default: 300, description: 'MCP_EVENT_STORE: how long a stream\'s events stay resumable after its last event' }),
  ALLOWED_ORIGINS: Type.String({ default: '', description: 'comma-separated Origin allow-list for browser requests (empty: localhost origins only)' }),
  ALLOWED_HOSTS: Type.String({ default: '', description: 'comma-separated Host header allow-list for every route; IP-literal hosts always pass (empty: any host)' }),
  TRUST_PROXY: Type.String({ default: 'false', description: 'which peers may name the client address in X-Forwarded-For: false, true (any peer), or comma-separated proxy addresses, CIDR ranges, loopback, linklocal, uniquelocal' }),
  REQUEST_TIMEOUT_MS: Milliseconds({ minimum: 1000, default: 30_000, description: 'longest time a client may take to send a whole request, headers and body (responses and SSE streams are not limited by it); past it the connection is closed' }),
  HEADERS_TIMEOUT_MS: Milliseconds({ minimum: 1000, default: 10_000, description: 'longest time a client may take to send a request\'s headers (at most REQUEST_TIMEOUT_MS)' }),
  KEEP_ALIVE_TIMEOUT_MS: Milliseconds({ minimum: 1000, default: 72_000, description: 'how long an idle keep-alive connection stays open between requests (above a load balancer\'s own idle timeout)' }),
  MAX_CONNECTIONS: Type.Integer({ minimum: 1, default: 10_000, description: 'most client connections open at once; more are closed as they arrive' }),
  MAX_CONNECTIONS_PER_ADDRESS: Type.Integer({ minimum: 0, default: 0, description: 'most connections open at once from one peer address, more are closed as they arrive; 0: no limit (behind a proxy every connection comes from the proxy)' }),
  MAX_BODY_BYTES: Type.Integer({ minimum: 1024, default: 4 * 1024 * 1024, description: 'largest accepted request body' }),
  PID_FILE: Type.Optional(Type.String({ minLength: 1, description: 'file the router writes its process id to at start-up and removes when it exits; `mcp-openai-router reload` (npm run reload) sends SIGHUP to exactly that process' })),
  SHUTDOWN_GRACE_MS: Milliseconds({ minimum: 0, default: 10_000, description: 'how long in-flight calls may run after SIGTERM' }),
  READY_CHECK_UPSTREAM: Type.Boolean({ default: true, description: 'whether /ready checks the upstream (GET /models, and that it has the API chat calls, UPSTREAM_API)' }),
  READY_CHECK_TTL_MS: Milliseconds({ minimum: 1000, default: 30_000, description: 'how long an upstream check result is reused by /ready' }),
  DOWNSTREAM_MCP: Type.String({ default: '', description: 'JSON list of downstream MCP servers whose tools chat can run for the model: [{"name": "search", "url": "http://search:8000/mcp", "tokenEnv": "SEARCH_TOKEN", "timeoutMs": 30000, "tools": ["*"]}]' }),
  THINK_TOOL_URL: Type.Optional(HttpUrl({ description: 'URL of a think-tool MCP server; adds the downstream "think" with its think tool' })),
  AGENT_MAX_TURNS: Type.Integer({ minimum: 1, maximum: 100, default: 15, description: 'chat with use_tools: the most model turns one call may take (a call\'s max_turns can only lower it)' }),
  DOWNSTREAM_RECONNECT_MS: Milliseconds({ minimum: 10, default: 1000, description: 'first wait before reconnecting to a downstream MCP server; doubles up to 30 s' }),
  READ_FILE_ROOT: Type.Optional(Type.String({ minLength: 1, description: 'directory the read_file tool may read from (unset: no read_file tool)' })),
  READ_FILE_MAX_BYTES: Type.Integer({ minimum: 1, default: 1_048_576, description: 'read_file: most bytes one call returns' }),
  READ_FILE_ALLOW_HARDLINKS: Type.Boolean({ default: false, description: 'read_file: read files that have more than one hard link (one of their names may be outside READ_FILE_ROOT)' }),
  LOG_BODIES: StringEnum(['none', 'truncated', 'full'] as const, { default: 'none', description: 'whether MCP log lines carry tool arguments and results (credentials are always removed)' }),
  LOG_BODY_MAX_CHARS: Type.Integer({ minimum: 100, default: 2000, description: 'LOG_BODIES=truncated: longest logged argument or result text' }),
  RATE_LIMIT_RPM: Type.Integer({ minimum: 0, default: 0, description: 'HTTP requests to /mcp per minute per client key (per IP when open), unless the client\'s own requestsPerMinute says otherwise; 0: no limit' }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://', title: 'a redis:// or rediss:// URL', description: 'Redis shared by the replicas for rate-limit counters, token budgets and the response cache (unset: each process keeps its own in memory)' })),
  REDIS_KEY_PREFIX: Type.String({ default: 'mcp-router:', description: 'prefix of every Redis key the router writes' }),
  REDIS_COMMAND_TIMEOUT_MS: Milliseconds({ minimum: 10, default: 500, description: 'how long one Redis command may take before the router gives up on it and uses its own state for that request' }),
  BUDGET_DEFAULT_OUTPUT_TOKENS: Type.Integer({ minimum: 1, default: 4096, description: 'output tokens a chat without max_tokens is assumed to spend when its client\'s token budget reserves it; what it really spent replaces the estimate when it ends' }),
  CACHE_TTL_S: Type.Integer({ minimum: 0, default: 3600, description: 'how long a cached chat or embed answer is served; 0: no response cache' }),
  CACHE_MAX_ENTRIES: Type.Integer({ minimum: 1, default: 10_000, description: 'most answers the in-memory response cache holds' }),
  CACHE_MAX_BYTES: Type.Integer({ minimum: 1024, default: 64 * 1024 * 1024, description: 'most bytes the in-memory response cache holds (an answer larger than a tenth of it is not cached)' }),
  SCHEMA_MAX_BYTES: Type.Integer({ minimum: 1024, default: 128 * 1024, description: 'largest response_format schema the router compiles, in bytes of JSON; larger ones are invalid_arguments' }),
  SCHEMA_MAX_NODES: Type.Integer({ minimum: 10, default: 10_000, description: 'most values (objects, arrays, strings, numbers, ...) a response_format schema may hold' }),
  SCHEMA_MAX_DEPTH: Type.Integer({ minimum: 2, maximum: 60, default: 32, description: 'deepest nesting of objects and arrays in a response_format schema' }),
  SCHEMA_TIMEOUT_MS: Milliseconds({ minimum: 10, default: 2000, description: 'longest one response_format schema may take to compile, or an answer to be checked against it (in a worker thread, off the main thread); past it, invalid_arguments' }),
  SCHEMA_MAX_JOBS_PER_CLIENT: Type.Integer({ minimum: 1, default: 4, description: 'most response_format compiles and answer checks one client (one address when the router is open) may have waiting or running at once; past it, rate_limited at once' }),
  SCHEMA_MAX_QUEUED_JOBS: Type.Integer({ minimum: 1, default: 64, description: 'most response_format compiles and answer checks waiting for the schema worker, of every client; past it, rate_limited at once' }),
  SCHEMA_CACHE_MAX_BYTES: Type.Integer({ minimum: 1024 * 1024, default: 64 * 1024 * 1024, description: 'estimated memory the compiled response_format validators kept for reuse may take; the least recently used go first' }),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16, description: 'bearer token GET /metrics and GET /status require (unset: /metrics is open)' })),
  MODEL_PRICES: Type.String({ default: '', description: 'JSON price table for the cost metric and USD budgets, USD per million tokens: {"model": {"input": 0.4, "output": 1.6}}; extends and overrides the built-in prices' }),
  IMAGE_PRICES: Type.String({ default: '', description: 'JSON price table of image models billed by the image, USD per image by quality and size: {"my-image-model": {"standard": {"1024x1024": 0.04}}}; extends and overrides the built-in DALL·E prices' }),
  CLIENT_KEYS_FILE: Type.Optional(Type.String({ minLength: 1, description: 'clients file (YAML or JSON): each client\'s name, key hash, allowed models, request and token limits; with it (or CLIENT_KEYS) /mcp needs a key' })),
  CLIENT_KEYS: Type.String({ default: '', description: 'comma-separated name:sha256-hex pairs of client keys (npm run hash-key prints the hash of a key)' }),
  AUTH_REQUIRED: Type.Boolean({ default: false, description: 'true: refuse to start without client keys (CLIENT_KEYS_FILE or CLIENT_KEYS) or OAUTH_ISSUER; false: no keys leaves /mcp open, with a warning' }),
  PUBLIC_URL: Type.Optional(HttpUrl({ description: 'the router\'s public base URL as clients reach it (https://mcp.example.com); its /mcp is the OAuth protected resource' })),
  OAUTH_ISSUER: Type.Optional(HttpUrl({ description: 'the authorization server whose JWT access tokens /mcp accepts beside client keys (its issuer identifier, the tokens\' iss); needs PUBLIC_URL and CLIENT_KEYS_FILE' })),
  OAUTH_AUDIENCE: Type.String({ default: '', description: 'comma-separated aud values a token must hold one of; empty: the resource, PUBLIC_URL + /mcp' }),
  OAUTH_JWKS_URL: Type.Optional(HttpUrl({ description: 'the issuer\'s JWKS; unset: jwks_uri of its /.well-known/oauth-authorization-server or openid-configuration' })),
  OAUTH_ALGORITHMS: Type.String({ default: 'RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512,EdDSA', description: 'comma-separated JWS algorithms a token may be signed with (asymmetric ones only)' }),
  OAUTH_PRINCIPAL_CLAIM: Type.String({ minLength: 1, default: 'sub', description: 'the token claim whose value names the client entry (CLIENT_KEYS_FILE) a principal gets: sub, client_id, azp, or a list claim such as groups' }),
  OAUTH_DEFAULT_CLIENT: Type.Optional(Type.String({ minLength: 1, description: 'the client entry principals with no entry of their own share; unset: they are refused (403)' })),
  OAUTH_REQUIRED_SCOPES: Type.String({ default: '', description: 'space- or comma-separated scopes every token must hold, e.g. mcp:tools' }),
  OAUTH_TOOL_SCOPES: Type.String({ default: '', description: 'JSON map of tool name to the scope a token needs to see and call it: {"generate_image": "mcp:images"}' }),
  OAUTH_STATUS_SCOPE: Type.Optional(Type.String({ minLength: 1, description: 'the scope an access token needs to read GET /status, e.g. mcp:status; unset: access tokens do not open the status page' })),
  OAUTH_CLOCK_SKEW_S: Type.Integer({ minimum: 0, maximum: 300, default: 30, description: 'seconds of clock difference allowed when checking a token\'s exp and nbf' }),
  OAUTH_MAX_DOCUMENT_BYTES: Type.Integer({ minimum: 1024, default: 1_048_576, description: 'most bytes read of the issuer\'s discovery document or JWKS; a larger one is refused unread (tokens then get 503)' }),
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(HttpUrl({ description: 'OpenTelemetry collector (OTLP over HTTP); spans are sent to its /v1/traces. Unset: no tracing' })),
  OTEL_SERVICE_NAME: Type.String({ minLength: 1, default: 'mcp-openai-router', description: 'service.name of the exported spans' }),
})

export type ValidatedEnv = Static<typeof ConfigSchema>

/** The validated environment, with the values derived from it: lists split, JSON parsed, files read. */
export type RouterConfig = Omit<ValidatedEnv, 'ALLOWED_ORIGINS' | 'ALLOWED_HOSTS' | 'MODEL_PRICES' | 'IMAGE_PRICES' | 'DOWNSTREAM_MCP' | 'TRUST_PROXY' | 'OAUTH_AUDIENCE' | 'OAUTH_ALGORITHMS' | 'OAUTH_REQUIRED_SCOPES' | 'OAUTH_TOOL_SCOPES'> & {
  ALLOWED_ORIGINS: string[]
  ALLOWED_HOSTS: string[]
  MODEL_PRICES: Record<string, ModelPrice>
  IMAGE_PRICES: Record<string, ImagePrice>
  DOWNSTREAM_MCP: DownstreamConfig[]
  /** The providers and how model names reach them, as loaded at start-up (ROUTER_CONFIG or the OPENAI_* settings). */
  routing: RoutingConfig
  /**
   * The clients that may call /mcp (CLIENT_KEYS_FILE and CLIENT_KEYS); empty: the router is open
   * (unless oauth is set).
   */
  clients: ClientConfig[]
  /** Access tokens /mcp accepts beside client keys (OAUTH_*); undefined: client keys only. */
  oauth: OAuthConfig | undefined
  /**
   * Whether the peer at `address` (`hop` proxies from the router) may name the client's address:
   * Fastify's `trustProxy`.
   */
  TRUST_PROXY: (address: string, hop: number) => boolean
  /** Reads ROUTER_CONFIG again, against the environment the configuration was loaded from (SIGHUP, a changed file). */
  reloadRouting: () => Promise<RoutingConfig>
}

/**
 * The compiler @fastify/env validates the environment with: env-schema's own options (strings
 * coerced to numbers and booleans, defaults filled in, unknown variables dropped), plus `verbose`
 * so that errors carry the schema's wording.
 */
export const configAjv = new Ajv({
  allErrors: true,
  coerceTypes: true,
  useDefaults: true,
  removeAdditional: true,
  verbose: true,
  formats: { 'http-url': isHttpUrl },
})

/**
 * The environment with its empty variables left out: `NAME=` (a blanked line of a .env file, a
 * compose `environment:` entry with no value) means the setting is unset and takes its default,
 * for every setting alike, rather than failing a minimum length.
 */
export function withoutEmptyValues (env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''))
}

/** Why the environment failed {@link ConfigSchema}, as @fastify/env reports it, in one line naming the settings. */
export function invalidSettings (err: unknown): ConfigError {
  return new ConfigError(`${describeValidationErrors((err as { errors?: ErrorObject[] }).errors)}`)
}

/**
 * The configuration: the environment @fastify/env validated against {@link ConfigSchema}, completed
 * with what derives from it, once. A bad value rejects with a {@link ConfigError} naming the setting.
 */
export async function deriveConfig (
  validated: ValidatedEnv,
  env: Record<string, string | undefined>
): Promise<RouterConfig> {
  const apiKey = await resolveApiKey(validated)
  const withKey = { ...validated, OPENAI_API_KEY: apiKey }
  const ALLOWED_ORIGINS = splitList(validated.ALLOWED_ORIGINS)
  const ALLOWED_HOSTS = splitList(validated.ALLOWED_HOSTS).map((host) => host.toLowerCase())
  const MODEL_PRICES = parseModelPrices(validated.MODEL_PRICES)
  const IMAGE_PRICES = parseJsonSetting('IMAGE_PRICES', validated.IMAGE_PRICES, validImagePrices, '{"model": {"standard": {"1024x1024": 0.04}}} (USD per image by quality and size)') ?? {}
  const DOWNSTREAM_MCP = await parseDownstreams(validated, env)
  const routing = await loadRoutingConfig(withKey, env)
  const clients = await loadClientConfig(validated)
  const oauth = parseOAuthConfig(validated, clients)
  if (validated.AUTH_REQUIRED && clients.length === 0 && !oauth) {
    throw new ConfigError('AUTH_REQUIRED is true but no client key is configured (set CLIENT_KEYS_FILE or CLIENT_KEYS, or OAUTH_ISSUER)')
  }
  if (validated.MCP_EVENT_STORE !== 'none' && validated.MCP_SESSIONS !== 'stateful') {
    throw new ConfigError(`MCP_EVENT_STORE=${validated.MCP_EVENT_STORE} needs MCP_SESSIONS=stateful (stateless exchanges have no stream to resume)`)
  }
  if (validated.MCP_EVENT_STORE === 'redis' && !validated.REDIS_URL) {
    throw new ConfigError('MCP_EVENT_STORE=redis needs REDIS_URL')
  }
  const trustProxy = parseTrustProxy(validated.TRUST_PROXY)
  if (trustProxy === undefined) {
    throw new ConfigError(`TRUST_PROXY must be false, true, or comma-separated proxy addresses, CIDR ranges, loopback, linklocal or uniquelocal (got "${validated.TRUST_PROXY}")`)
  }
  if (validated.HEADERS_TIMEOUT_MS > validated.REQUEST_TIMEOUT_MS) {
    throw new ConfigError(`HEADERS_TIMEOUT_MS (${validated.HEADERS_TIMEOUT_MS}) must not exceed REQUEST_TIMEOUT_MS (${validated.REQUEST_TIMEOUT_MS}): the headers are part of the request`)
  }
  if (validated.READ_FILE_ROOT !== undefined) await checkDirectory('READ_FILE_ROOT', validated.READ_FILE_ROOT)
  return {
    ...withKey,
    ALLOWED_ORIGINS,
    ALLOWED_HOSTS,
    MODEL_PRICES,
    IMAGE_PRICES,
    DOWNSTREAM_MCP,
    TRUST_PROXY: trustFunction(trustProxy),
    routing,
    clients,
    oauth,
    reloadRouting: async () => loadRoutingConfig(withKey, env),
  }
}

/** Fastify's trustProxy forms as the function it compiles them to (proxy-addr's). */
function trustFunction (trustProxy: TrustProxy): RouterConfig['TRUST_PROXY'] {
  if (typeof trustProxy === 'boolean') return () => trustProxy
  return proxyAddr.compile(trustProxy.split(','))
}

/**
 * The key of the environment's provider; required unless ROUTER_CONFIG names the providers (checked
 * with them). One of the two settings, never both: a key left in `.env` beside a mounted secret
 * would otherwise decide silently which key is spent.
 */
async function resolveApiKey ({ OPENAI_API_KEY, OPENAI_API_KEY_FILE }: ValidatedEnv): Promise<string | undefined> {
  if (!OPENAI_API_KEY_FILE) return OPENAI_API_KEY
  if (OPENAI_API_KEY) throw new ConfigError('OPENAI_API_KEY and OPENAI_API_KEY_FILE are both set; keep one (with a key file, remove OPENAI_API_KEY from .env)')
  const key = await readSecretFile('OPENAI_API_KEY_FILE', OPENAI_API_KEY_FILE)
  if (!key) throw new ConfigError(`OPENAI_API_KEY_FILE is empty (${OPENAI_API_KEY_FILE})`)
  refusePlaceholderKey(key, `OPENAI_API_KEY_FILE (${OPENAI_API_KEY_FILE})`)
  return key
}

const validModelPrices = compileConfig(ModelPricesSchema)
const validImagePrices = compileConfig(ImagePricesSchema)
const validDownstreams = compileConfig(DownstreamListSchema)

/** A setting holding JSON, parsed and checked against its schema; errors name the path inside it. */
function parseJsonSetting<T> (
  name: string,
  json: string,
  validate: ValidateFunction<T>,
  example: string
): T | undefined {
  if (!json.trim()) return undefined
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    throw new ConfigError(`${name} is not JSON; expected ${example}`)
  }
  // Paths inside a list read as DOWNSTREAM_MCP[1].url, inside an object as MODEL_PRICES gpt-x.input.
  return checkConfig(name, value, validate, example)
}

function parseModelPrices (json: string): Record<string, ModelPrice> {
  return parseJsonSetting('MODEL_PRICES', json, validModelPrices, '{"model": {"input": 0.4, "output": 1.6}} (USD per million tokens)') ?? {}
}

async function parseDownstreams (
  { DOWNSTREAM_MCP, THINK_TOOL_URL }: ValidatedEnv,
  env: Record<string, string | undefined>
): Promise<DownstreamConfig[]> {
  const entries = parseJsonSetting('DOWNSTREAM_MCP', DOWNSTREAM_MCP, validDownstreams, '[{"name": "search", "url": "http://search:8000/mcp"}]') ?? []
  const names = new Set<string>()
  for (const [index, entry] of entries.entries()) {
    if (names.has(entry.name)) throw new ConfigError(`DOWNSTREAM_MCP[${index}].name "${entry.name}" is used twice`)
    names.add(entry.name)
  }
  // The original router's think tool, by its old setting.
  if (THINK_TOOL_URL && !names.has('think')) entries.push({ name: 'think', url: THINK_TOOL_URL, tools: ['think'], timeoutMs: DEFAULT_DOWNSTREAM_TIMEOUT_MS })
  return Promise.all(entries.map(async ({ tokenEnv, tokenFile, ...entry }, index) => {
    const field = `DOWNSTREAM_MCP[${index}]`
    let token: string | undefined
    if (tokenEnv) {
      token = env[tokenEnv]
      if (!token) throw new ConfigError(`${field}.tokenEnv names ${tokenEnv}, which is not set`)
    } else if (tokenFile) {
      token = await readSecretFile(`${field}.tokenFile`, tokenFile)
    }
    return { ...entry, ...(token && { token }) }
  }))
}

async function checkDirectory (name: string, path: string): Promise<void> {
  const stats = await stat(path).catch((err: unknown) => { throw cannotRead(name, path, err) })
  if (!stats.isDirectory()) throw new ConfigError(`${name} is not a directory (${path})`)
}

function splitList (value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter(Boolean)
}
