import type { Client } from '../access/client-keys.js'
import type { RecentCall } from '../observability/recent-calls.js'
import type { UpstreamHealthRow } from '../observability/upstream-health.js'
import type { Provider } from '../routing/provider.js'
import type { ClientUsageSource } from './client-usage.js'
import type { ReplicaInfo } from './replicas.js'
import type { ClientStatusRow, ProviderStatusRow, RecentCallRow, RouterFactsRow, StatusSnapshot } from './status-schema.js'

/** What the status page is made of, each read when a snapshot is taken. */
export interface StatusSources {
  version: string
  protocolVersions: readonly string[]
  sessions: 'stateless' | 'stateful'
  startedAt: number
  /** Whether a provider's readiness includes its upstream check (READY_CHECK_UPSTREAM). */
  checkUpstream: boolean
  providers: () => Iterable<Provider>
  upstreamHealth: () => UpstreamHealthRow[]
  /** Every client entry in force; empty when the router runs open. */
  clients: () => readonly Client[]
  usage: ClientUsageSource
  refusals: () => Promise<Array<{ client: string, limit: string, count: number }>>
  calls: { newest: (afterSeq: number) => RecentCall[], readonly lastSeq: number }
  replicas: () => Promise<ReplicaInfo[]>
  sharedState: () => { store: 'memory' | 'redis', reachable?: boolean }
  openSessions: () => number
  openStreams: () => number
  inFlightCalls: () => number
  cacheLookups: () => Promise<Record<string, number>>
  now?: () => number
}

/** Takes snapshots of the router's state for `GET /status` and `/status.json`: one builder, two views. */
export class StatusBoard {
  readonly #now: () => number

  constructor (private readonly sources: StatusSources) {
    this.#now = sources.now ?? Date.now
  }

  /** The whole picture, with the calls after `afterSeq` only (all that are kept by default). */
  async snapshot (afterSeq = 0): Promise<StatusSnapshot> {
    const { sources } = this
    const lastSeq = sources.calls.lastSeq
    const [router, providers, clients] = await Promise.all([this.#router(), this.#providers(), this.#clients()])
    const calls = sources.calls.newest(afterSeq).map(callRow)
    return { generatedAt: this.#now(), router, providers, clients, calls, lastSeq }
  }

  async #router (): Promise<RouterFactsRow> {
    const { sources } = this
    const now = this.#now()
    const [replicas, lookups] = await Promise.all([sources.replicas(), sources.cacheLookups()])
    const [hits, misses, bypasses] = [lookups.hit ?? 0, lookups.miss ?? 0, lookups.bypass ?? 0]
    const shared = sources.sharedState()
    const memory = process.memoryUsage()
    return {
      version: sources.version,
      protocolVersions: [...sources.protocolVersions],
      sessions: sources.sessions,
      startedAt: sources.startedAt,
      uptimeSeconds: Math.floor((now - sources.startedAt) / 1000),
      replica: replicas[0]?.id ?? '',
      replicas,
      sharedState: shared.store,
      ...(shared.reachable !== undefined && { redisReachable: shared.reachable }),
      openSessions: sources.openSessions(),
      openStreams: sources.openStreams(),
      inFlightCalls: sources.inFlightCalls(),
      cache: { hits, misses, bypasses, ...(hits + misses > 0 && { hitRatio: hits / (hits + misses) }) },
      memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed },
    }
  }

  async #providers (): Promise<ProviderStatusRow[]> {
    const { sources } = this
    const health = sources.upstreamHealth()
    return Promise.all([...sources.providers()].map(async (provider) => {
      const status = provider.status()
      const check = sources.checkUpstream ? (await provider.models.check()).status : 'disabled' as const
      const { breaker, limiter } = provider
      return {
        name: provider.name,
        baseURL: status.baseURL,
        api: status.api,
        ready: provider.available && check !== 'failing',
        check,
        circuit: status.circuit,
        ...(breaker?.state === 'open' && { probeAt: breaker.retryAt }),
        ...(status.lastFailure && { lastFailure: status.lastFailure }),
        modelCircuits: Object.entries(status.modelCircuits ?? {}).map(([model, state]) => ({ model, state })),
        ...(limiter && {
          concurrency: {
            inFlight: limiter.active,
            queued: limiter.queued,
            max: limiter.limits.max,
            maxQueued: limiter.limits.maxQueued,
          },
        }),
        models: health
          .filter((row) => row.provider === provider.name)
          .map(({ model, calls, failures, p50Ms, p95Ms }) => ({
            model,
            calls,
            failures,
            errorRate: failures / calls,
            p50Ms,
            p95Ms,
          })),
      }
    }))
  }

  async #clients (): Promise<ClientStatusRow[]> {
    const { sources } = this
    const clients = sources.clients()
    const [usage, refusals] = await Promise.all([sources.usage.usage(clients), sources.refusals()])
    const principals = new Map<string, Set<string>>()
    for (const { client, principal } of sources.calls.newest(0)) {
      if (client === undefined || principal === undefined) continue
      principals.set(client, (principals.get(client) ?? new Set()).add(principal))
    }
    return clients.map((client) => ({
      name: client.name,
      access: client.hasKey ? 'key' as const : 'oauth' as const,
      operator: client.operator,
      usage: usage.get(client.name) ?? [],
      refusals: refusals
        .filter((refusal) => refusal.client === client.name)
        .map(({ limit, count }) => ({ limit, count })),
      principals: [...principals.get(client.name) ?? []].sort(),
    }))
  }
}

/** A recent call without its unset fields, as the schema has them. */
function callRow (call: RecentCall): RecentCallRow {
  return Object.fromEntries(Object.entries(call).filter(([, value]) => value !== undefined)) as RecentCallRow
}
