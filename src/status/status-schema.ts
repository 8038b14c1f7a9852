import { type Static, Type } from '@sinclair/typebox'
import { StringEnum } from '../schemas.js'

const EpochMs = (description: string) => Type.Integer({ description: `${description}, epoch ms` })

const ModelHealth = Type.Object({
  model: Type.String({ description: '`-` for calls that name no model.' }),
  calls: Type.Integer(),
  failures: Type.Integer(),
  errorRate: Type.Number({ description: 'failures / calls' }),
  p50Ms: Type.Integer(),
  p95Ms: Type.Integer(),
})

const ProviderStatus = Type.Object({
  name: Type.String(),
  baseURL: Type.String({ description: 'Credentials in it masked.' }),
  api: StringEnum(['responses', 'chat_completions'] as const),
  ready: Type.Boolean({ description: 'Its upstream check did not fail and its circuit is not open.' }),
  check: StringEnum(['ok', 'failing', 'not_checked', 'disabled'] as const),
  circuit: StringEnum(['closed', 'half_open', 'open', 'disabled'] as const),
  probeAt: Type.Optional(EpochMs('When an open circuit lets its probe call through')),
  lastFailure: Type.Optional(Type.String()),
  modelCircuits: Type.Array(Type.Object({ model: Type.String(), state: StringEnum(['closed', 'half_open', 'open'] as const) })),
  concurrency: Type.Optional(Type.Object({
    inFlight: Type.Integer(),
    queued: Type.Integer(),
    max: Type.Integer(),
    maxQueued: Type.Integer(),
  })),
  models: Type.Array(ModelHealth, { description: 'Upstream calls of this replica over the window, per model.' }),
})

const Usage = Type.Object({
  measure: StringEnum(['requests', 'tokens', 'usd'] as const),
  period: StringEnum(['minute', 'day', 'month'] as const),
  used: Type.Number({ description: 'USD as a decimal; running calls count with their reservations.' }),
  limit: Type.Number(),
  resetsAt: EpochMs('When the window ends'),
})

const ClientStatus = Type.Object({
  name: Type.String(),
  access: StringEnum(['key', 'oauth'] as const, { description: 'key: it has a client key (OAuth principals may map to it too); oauth: an entry for OAuth principals only.' }),
  operator: Type.Boolean(),
  usage: Type.Array(Usage, { description: 'One row per limit the client has; none without limits.' }),
  refusals: Type.Array(Type.Object({ limit: Type.String(), count: Type.Integer() }), { description: 'Refused by this replica since it started, by limit.' }),
  principals: Type.Array(Type.String(), { description: 'The OAuth principals among this replica\'s recent calls that came as this client.' }),
})

export const RecentCallSchema = Type.Object({
  seq: Type.Integer(),
  at: EpochMs('When it finished'),
  client: Type.Optional(Type.String()),
  principal: Type.Optional(Type.String({ description: 'The OAuth principal, for a call made with an access token.' })),
  tool: Type.String(),
  modelRequested: Type.Optional(Type.String()),
  modelServed: Type.Optional(Type.String()),
  provider: Type.Optional(Type.String()),
  outcome: Type.String({ description: 'ok, tool_error, or the error code.' }),
  durationMs: Type.Integer(),
  inputTokens: Type.Integer(),
  outputTokens: Type.Integer(),
  costUsd: Type.Optional(Type.Number()),
  cache: Type.Optional(StringEnum(['hit', 'miss', 'bypass'] as const)),
  fallbacks: Type.Array(Type.String(), { description: 'provider/model: error code of each target that failed before the last.' }),
})

const Replica = Type.Object({
  id: Type.String(),
  version: Type.String(),
  startedAt: EpochMs('When it started'),
  seenAt: EpochMs('When it last said it was alive'),
})

const RouterFacts = Type.Object({
  version: Type.String(),
  protocolVersions: Type.Array(Type.String(), { description: 'The MCP revisions served: the 2025 era\'s and 2026-07-28.' }),
  sessions: StringEnum(['stateless', 'stateful'] as const),
  startedAt: EpochMs('When this replica started'),
  uptimeSeconds: Type.Integer(),
  replica: Type.String({ description: 'The replica this page is from.' }),
  replicas: Type.Array(Replica, { description: 'The replicas sharing this one\'s Redis (itself alone without Redis).' }),
  sharedState: StringEnum(['memory', 'redis'] as const),
  redisReachable: Type.Optional(Type.Boolean()),
  openSessions: Type.Integer(),
  openStreams: Type.Integer({ description: 'SSE responses open now.' }),
  inFlightCalls: Type.Integer(),
  cache: Type.Object({ hits: Type.Integer(), misses: Type.Integer(), bypasses: Type.Integer(), hitRatio: Type.Optional(Type.Number({ description: 'hits / (hits + misses); unset before any.' })) }),
  memory: Type.Object({ rssBytes: Type.Integer(), heapUsedBytes: Type.Integer() }),
})

export const StatusSnapshotSchema = Type.Object({
  generatedAt: EpochMs('When this snapshot was taken'),
  router: RouterFacts,
  providers: Type.Array(ProviderStatus),
  clients: Type.Array(ClientStatus, { description: 'Usage is the cluster\'s with Redis (the counters the limits use), else this replica\'s.' }),
  calls: Type.Array(RecentCallSchema, { description: 'This replica\'s last calls, newest first (after `since` when asked).' }),
  lastSeq: Type.Integer({ description: 'The seq of this replica\'s newest call: pass it as `since` to get only newer ones.' }),
})

export type StatusSnapshot = Static<typeof StatusSnapshotSchema>
export type ProviderStatusRow = Static<typeof ProviderStatus>
export type ClientStatusRow = Static<typeof ClientStatus>
export type RecentCallRow = Static<typeof RecentCallSchema>
export type RouterFactsRow = Static<typeof RouterFacts>
