import { type Static, Type } from '@sinclair/typebox'
import { compileConfig, readSecretFile, readConfigFile } from '../config-parsing.js'
import { ConfigError } from '../errors.js'
import type { CircuitBreakerConfig } from '../circuit-breaker.js'
import { StringEnum } from '../schemas.js'
import type { UpstreamApi } from '../upstream/chat-types.js'

const ProviderName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$', title: 'letters, digits, _, . or - (at most 63)' })
const ModelName = Type.String({ minLength: 1 })

const CircuitBreakerSchema = Type.Object({
  enabled: Type.Optional(Type.Boolean({ description: 'false: no circuit breaking for this provider (or, at the top level, for every provider).' })),
  failureThreshold: Type.Optional(Type.Integer({ minimum: 1, description: 'Consecutive failures that open the circuit.' })),
  failureRatio: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Share of failed calls within windowMs that opens the circuit...' })),
  minimumCalls: Type.Optional(Type.Integer({ minimum: 1, description: '...once the window holds at least this many calls.' })),
  windowMs: Type.Optional(Type.Integer({ minimum: 1000 })),
  cooldownMs: Type.Optional(Type.Integer({ minimum: 1, description: 'How long an open circuit fails fast before one probe call is let through.' })),
}, { additionalProperties: false })

const ProviderSchema = Type.Object({
  name: ProviderName,
  baseURL: Type.String({ format: 'http-url', title: 'an http:// or https:// URL' }),
  apiKeyEnv: Type.Optional(Type.String({ minLength: 1, description: 'Environment variable holding the key.' })),
  apiKeyFile: Type.Optional(Type.String({ minLength: 1, description: 'File holding the key.' })),
  apiKey: Type.Optional(Type.String({ minLength: 1, description: 'The key itself; refused unless allowInlineKeys is true.' })),
  api: Type.Optional(StringEnum(['responses', 'chat_completions'] as const)),
  headers: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String())),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
  maxConcurrency: Type.Optional(Type.Integer({ minimum: 1, description: 'Most calls in flight at once; the others wait in a queue.' })),
  maxQueued: Type.Optional(Type.Integer({ minimum: 0, description: 'Most calls waiting for a slot; beyond it a call fails at once as provider_saturated.' })),
  queueTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, description: 'Longest wait for a slot before provider_saturated.' })),
  models: Type.Optional(Type.Union([Type.Literal('*'), Type.Array(ModelName, { minItems: 1 })])),
  circuitBreaker: Type.Optional(CircuitBreakerSchema),
}, { additionalProperties: false })

export const RoutingFileSchema = Type.Object({
  providers: Type.Array(ProviderSchema, { minItems: 1 }),
  aliases: Type.Optional(Type.Record(Type.String({ minLength: 1 }), ModelName)),
  fallbacks: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.Array(ModelName, { minItems: 1 }))),
  allowModels: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  denyModels: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  allowInlineKeys: Type.Optional(Type.Boolean()),
  circuitBreaker: Type.Optional(CircuitBreakerSchema),
}, { additionalProperties: false })

type RoutingFile = Static<typeof RoutingFileSchema>
type ProviderEntry = RoutingFile['providers'][number]

export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerConfig = {
  failureThreshold: 5,
  failureRatio: 0.5,
  minimumCalls: 20,
  windowMs: 60_000,
  cooldownMs: 30_000,
}
const DEFAULT_QUEUE_TIMEOUT_MS = 10_000

/** One upstream as the router uses it: its key read, its defaults filled in. */
export interface ProviderConfig {
  name: string
  baseURL: string
  /** Undefined for upstreams that take no key (a local vLLM or Ollama): no Authorization header is sent. */
  apiKey: string | undefined
  /** Where the key came from, for messages: "OPENAI_API_KEY", "the key of provider \"groq\"". */
  keySource: string
  api: UpstreamApi
  headers: Record<string, string>
  timeoutMs: number
  /** Undefined: no limit. */
  concurrency: { max: number, maxQueued: number, queueTimeoutMs: number } | undefined
  /** The models it serves, or every model its /models lists. */
  models: '*' | string[]
  /** Undefined: no circuit breaking. */
  circuitBreaker: CircuitBreakerConfig | undefined
}

/** Everything routing needs: the providers, and how model names reach them. */
export interface RoutingConfig {
  /** The routing file, or undefined when the environment describes the one provider. */
  file: string | undefined
  providers: ProviderConfig[]
  aliases: Record<string, string>
  fallbacks: Record<string, string[]>
  allowModels: string[]
  denyModels: string[]
}

/** What the environment contributes: the one provider without a file, and the defaults of the file's providers. */
export interface RoutingEnvironment {
  ROUTER_CONFIG?: string | undefined
  OPENAI_API_KEY?: string | undefined
  OPENAI_BASE_URL: string
  UPSTREAM_API: UpstreamApi
  UPSTREAM_TIMEOUT_MS: number
}

/** The key `.env.example` ships with: left in a copied `.env`, it would show only on /ready or the first call. */
export const PLACEHOLDER_API_KEY = 'sk-your-key'

/** The key file of the Kubernetes example overlay held this in 0.1.0; a copy of it still may. */
export const KUBERNETES_PLACEHOLDER_API_KEY = 'sk-replace-me'

const PLACEHOLDERS: Record<string, string> = {
  [PLACEHOLDER_API_KEY]: 'the .env.example placeholder',
  [KUBERNETES_PLACEHOLDER_API_KEY]: 'the Kubernetes example\'s placeholder',
}

/** The provider the environment describes when there is no routing file: nothing changes for existing users. */
const ENVIRONMENT_PROVIDER = 'openai'

const validRoutingFile = compileConfig(RoutingFileSchema)

/**
 * The routing config: from ROUTER_CONFIG (YAML or JSON) when set, else the one provider of the
 * environment. Every problem is a {@link ConfigError} naming the path inside the file.
 */
export async function loadRoutingConfig (
  config: RoutingEnvironment,
  env: Record<string, string | undefined>
): Promise<RoutingConfig> {
  if (!config.ROUTER_CONFIG) {
    if (!config.OPENAI_API_KEY) throw new ConfigError('OPENAI_API_KEY is required (or OPENAI_API_KEY_FILE, the path to a file holding it, or ROUTER_CONFIG naming providers with their keys)')
    refusePlaceholderKey(config.OPENAI_API_KEY, 'OPENAI_API_KEY')
    return {
      file: undefined,
      providers: [{
        name: ENVIRONMENT_PROVIDER,
        baseURL: config.OPENAI_BASE_URL,
        apiKey: config.OPENAI_API_KEY,
        keySource: 'OPENAI_API_KEY',
        api: config.UPSTREAM_API,
        headers: {},
        timeoutMs: config.UPSTREAM_TIMEOUT_MS,
        concurrency: undefined,
        models: '*',
        // One provider and nowhere to fall back to: failing fast would only change the error.
        circuitBreaker: undefined,
      }],
      aliases: {},
      fallbacks: {},
      allowModels: [],
      denyModels: [],
    }
  }
  const path = config.ROUTER_CONFIG
  const name = `ROUTER_CONFIG (${path}):`
  const file = await readConfigFile('ROUTER_CONFIG', path, validRoutingFile)
  const providers = await Promise.all(file.providers.map(async (entry, index) => providerConfig(entry, `${name} providers[${index}]`, file, config, env)))
  checkNames(file, providers, name)
  return {
    file: path,
    providers,
    aliases: file.aliases ?? {},
    fallbacks: file.fallbacks ?? {},
    allowModels: file.allowModels ?? [],
    denyModels: file.denyModels ?? [],
  }
}

async function providerConfig (
  entry: ProviderEntry,
  field: string,
  file: RoutingFile,
  config: RoutingEnvironment,
  env: Record<string, string | undefined>
): Promise<ProviderConfig> {
  const keys = [entry.apiKeyEnv, entry.apiKeyFile, entry.apiKey].filter((key) => key !== undefined)
  if (keys.length > 1) throw new ConfigError(`${field} gives more than one of apiKeyEnv, apiKeyFile and apiKey`)
  let apiKey: string | undefined
  let keySource = `the key of provider "${entry.name}"`
  if (entry.apiKeyEnv) {
    apiKey = env[entry.apiKeyEnv]
    if (!apiKey) throw new ConfigError(`${field}.apiKeyEnv names ${entry.apiKeyEnv}, which is not set`)
    keySource = entry.apiKeyEnv
  } else if (entry.apiKeyFile) {
    apiKey = await readSecretFile(`${field}.apiKeyFile`, entry.apiKeyFile)
    if (!apiKey) throw new ConfigError(`${field}.apiKeyFile is empty (${entry.apiKeyFile})`)
    keySource = `the key file of provider "${entry.name}"`
  } else if (entry.apiKey) {
    if (!file.allowInlineKeys) throw new ConfigError(`${field}.apiKey writes the key into the file; use apiKeyEnv or apiKeyFile, or set allowInlineKeys: true`)
    apiKey = entry.apiKey
  }
  refusePlaceholderKey(apiKey, `${field} key (${keySource})`)
  const { enabled = true, ...breaker } = { ...file.circuitBreaker, ...entry.circuitBreaker }
  return {
    name: entry.name,
    baseURL: entry.baseURL,
    apiKey,
    keySource,
    api: entry.api ?? config.UPSTREAM_API,
    headers: entry.headers ?? {},
    timeoutMs: entry.timeoutMs ?? config.UPSTREAM_TIMEOUT_MS,
    concurrency: entry.maxConcurrency === undefined
      ? undefined
      : {
          max: entry.maxConcurrency,
          maxQueued: entry.maxQueued ?? entry.maxConcurrency * 4,
          queueTimeoutMs: entry.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS,
        },
    models: entry.models ?? '*',
    circuitBreaker: enabled ? { ...DEFAULT_CIRCUIT_BREAKER, ...breaker } : undefined,
  }
}

/** A key copied from one of the project's examples stops start-up, naming where it was set. */
export function refusePlaceholderKey (apiKey: string | undefined, where: string): void {
  const placeholder = apiKey === undefined ? undefined : PLACEHOLDERS[apiKey]
  if (placeholder) throw new ConfigError(`${where} is ${placeholder} (${apiKey}); set your API key`)
}

/**
 * `provider/model` split at its first slash, when what comes before it is a provider's name;
 * otherwise undefined: a bare model id, which may hold slashes of its own (OpenRouter's "openai/gpt-4.1").
 */
export function splitProviderPrefix (
  name: string,
  isProvider: (provider: string) => boolean
): { provider: string, model: string } | undefined {
  const slash = name.indexOf('/')
  if (slash <= 0 || !isProvider(name.slice(0, slash))) return undefined
  return { provider: name.slice(0, slash), model: name.slice(slash + 1) }
}

/** Names must lead somewhere: unique providers, aliases and fallbacks naming providers that exist. */
function checkNames (file: RoutingFile, providers: ProviderConfig[], name: string): void {
  const known = new Set<string>()
  for (const [index, provider] of providers.entries()) {
    if (known.has(provider.name)) throw new ConfigError(`${name} providers[${index}].name "${provider.name}" is used twice`)
    known.add(provider.name)
  }
  const checkTarget = (target: string, field: string) => {
    const slash = target.indexOf('/')
    // "x/y" names provider x only when x is a provider; otherwise it is a model id with a slash
    // (OpenRouter's "openai/gpt-4.1").
    if (slash > 0 && !known.has(target.slice(0, slash)) && !providers.some((provider) => provider.models === '*' || provider.models.includes(target))) {
      throw new ConfigError(`${name} ${field} "${target}" names no provider (providers: ${[...known].join(', ')})`)
    }
  }
  for (const [alias, target] of Object.entries(file.aliases ?? {})) {
    if (splitProviderPrefix(alias, (provider) => known.has(provider))) throw new ConfigError(`${name} aliases.${alias} looks like provider/model; an alias is a plain name`)
    checkTarget(target, `aliases.${alias}`)
  }
  for (const [model, targets] of Object.entries(file.fallbacks ?? {})) {
    targets.forEach((target, index) => checkTarget(target, `fallbacks.${model}[${index}]`))
  }
}
