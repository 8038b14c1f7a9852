import { type Static, Type } from '@sinclair/typebox'
import { compileConfig, readConfigFile } from '../config-parsing.js'
import { ConfigError } from '../errors.js'

const CLIENT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,62}$'
const ClientName = Type.String({ pattern: CLIENT_NAME_PATTERN, title: 'letters, digits, _, ., @ or - (at most 63)' })
const KEY_HASH_PATTERN = '^(sha256:)?[0-9a-f]{64}$'
const KeyHash = Type.String({ pattern: KEY_HASH_PATTERN, title: 'a SHA-256 hash in hex (npm run hash-key)' })
const TokenCount = Type.Integer({ minimum: 1 })
// A millionth of a dollar is the smallest amount budgets count.
const UsdAmount = Type.Number({ minimum: 0.000001, description: 'USD, spent from the price table (MODEL_PRICES, IMAGE_PRICES over built-in list prices)' })

const ClientEntrySchema = Type.Object({
  name: ClientName,
  keyHash: Type.Optional(Type.Union([KeyHash, Type.Array(KeyHash, { minItems: 1 })], { description: 'SHA-256 of the key (several while a key is rotated); unset: an entry for OAuth principals only (OAUTH_PRINCIPAL_CLAIM).' })),
  models: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Globs of the models and aliases the key may call; unset: every model the router allows.' })),
  requestsPerMinute: Type.Optional(Type.Integer({ minimum: 1, description: 'HTTP requests to /mcp per minute; unset: RATE_LIMIT_RPM.' })),
  tokensPerMinute: Type.Optional(TokenCount),
  tokensPerDay: Type.Optional(TokenCount),
  tokensPerMonth: Type.Optional(TokenCount),
  operator: Type.Optional(Type.Boolean({ description: 'Whether its key may also read GET /status, the router\'s status page (every client\'s usage, every recent call); unset: false.' })),
  usdPerDay: Type.Optional(UsdAmount),
  usdPerMonth: Type.Optional(UsdAmount),
}, { additionalProperties: false })

export const ClientKeysFileSchema = Type.Object({
  clients: Type.Array(ClientEntrySchema, { minItems: 1 }),
}, { additionalProperties: false })

type ClientEntry = Static<typeof ClientEntrySchema>

/** Token limits of one client; each is undefined when unlimited. Days and months are UTC. */
export interface TokenLimits {
  minute?: number
  day?: number
  month?: number
}

/** USD limits of one client; each is undefined when unlimited. Days and months are UTC. */
export interface UsdLimits {
  day?: number
  month?: number
}

/** A client of the router: who it is, how its key is recognised, and what it may spend. */
export interface ClientConfig {
  name: string
  /** SHA-256 digests of its keys (raw bytes, for constant-time comparison); none: OAuth principals only. */
  keyHashes: Buffer[]
  /** Globs of the model names it may call; undefined: any the router allows. */
  models: string[] | undefined
  requestsPerMinute: number | undefined
  tokens: TokenLimits
  /** Whether its key may read the status page. */
  operator: boolean
  usd: UsdLimits
}

export interface ClientKeysEnvironment {
  CLIENT_KEYS_FILE?: string | undefined
  CLIENT_KEYS: string
}

const validClientKeysFile = compileConfig(ClientKeysFileSchema)
const inlineClient = new RegExp(`^(${CLIENT_NAME_PATTERN.slice(1, -1)}):(${KEY_HASH_PATTERN.slice(1, -1)})$`)

/**
 * The clients from CLIENT_KEYS_FILE and CLIENT_KEYS (`name:hash` pairs, comma-separated); an empty
 * list when neither is set, which leaves the router open.
 */
export async function loadClientConfig (
  { CLIENT_KEYS_FILE, CLIENT_KEYS }: ClientKeysEnvironment
): Promise<ClientConfig[]> {
  const fromFile = CLIENT_KEYS_FILE ? (await readConfigFile('CLIENT_KEYS_FILE', CLIENT_KEYS_FILE, validClientKeysFile)).clients.map(clientConfig) : []
  const inline = CLIENT_KEYS.split(',').map((entry) => entry.trim()).filter(Boolean).map((entry, index) => {
    const [, name, hash] = inlineClient.exec(entry) ?? []
    if (name === undefined || hash === undefined) {
      throw new ConfigError(`CLIENT_KEYS[${index}] must be name:sha256-hex (npm run hash-key prints the hash of a key)`)
    }
    return clientConfig({ name, keyHash: hash })
  })
  const clients = [...fromFile, ...inline]
  const names = new Set<string>()
  const hashes = new Set<string>()
  for (const client of clients) {
    if (names.has(client.name)) throw new ConfigError(`client "${client.name}" is named twice (CLIENT_KEYS_FILE, CLIENT_KEYS)`)
    names.add(client.name)
    for (const hash of client.keyHashes) {
      const hex = hash.toString('hex')
      if (hashes.has(hex)) throw new ConfigError(`client "${client.name}" has a key hash another client has too; give each client its own key`)
      hashes.add(hex)
    }
  }
  return clients
}

function clientConfig ({
  name,
  keyHash,
  models,
  requestsPerMinute,
  tokensPerMinute,
  tokensPerDay,
  tokensPerMonth,
  usdPerDay,
  usdPerMonth,
  operator = false,
}: ClientEntry): ClientConfig {
  return {
    name,
    operator,
    keyHashes: [keyHash ?? []].flat().map((hash) => Buffer.from(hash.replace(/^sha256:/, ''), 'hex')),
    models,
    requestsPerMinute,
    tokens: {
      ...(tokensPerMinute && { minute: tokensPerMinute }),
      ...(tokensPerDay && { day: tokensPerDay }),
      ...(tokensPerMonth && { month: tokensPerMonth }),
    },
    usd: {
      ...(usdPerDay && { day: usdPerDay }),
      ...(usdPerMonth && { month: usdPerMonth }),
    },
  }
}
