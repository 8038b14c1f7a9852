import type { FastifyBaseLogger } from 'fastify'
import type { RoutingConfig } from './routing-config.js'
import { Provider, type ProviderDependencies } from './provider.js'
import { RoutingTable } from './routing-table.js'

/**
 * The routing table in force, and its replacement on reload. Each call takes the table once, at
 * its start, so a reload never changes where a running call goes. Providers whose config did
 * not change are carried over with their circuits, queues and model lists.
 */
export class ModelRouter {
  #table: RoutingTable
  readonly #reloaded = new Set<() => void>()

  constructor (
    config: RoutingConfig,
    private readonly dependencies: ProviderDependencies,
    private readonly loadRouting: () => Promise<RoutingConfig>,
    private readonly log: FastifyBaseLogger
  ) {
    this.#table = this.#build(config)
  }

  get table (): RoutingTable {
    return this.#table
  }

  /**
   * Reads the configuration again and switches to it. An invalid one is rejected with a log line
   * and the table in force stays; the result says which happened.
   */
  async reload (why: string): Promise<boolean> {
    let config: RoutingConfig
    try {
      config = await this.loadRouting()
    } catch (err) {
      this.log.error({ reason: why }, `routing configuration not reloaded, the previous one stays: ${err instanceof Error ? err.message : String(err)}`)
      return false
    }
    const previous = this.#table
    this.#table = this.#build(config, previous)
    for (const name of previous.providers.keys()) {
      if (!this.#table.providers.get(name)?.breaker) this.dependencies.metrics.forgetCircuit(name)
    }
    this.warmUp()
    const kept = [...this.#table.providers.values()]
      .filter((provider) => previous.providers.get(provider.name) === provider)
      .map((provider) => provider.name)
    this.log.info({ reason: why, providers: [...this.#table.providers.keys()], kept, aliases: Object.keys(config.aliases) }, 'routing configuration reloaded')
    for (const listener of this.#reloaded) listener()
    return true
  }

  /**
   * Calls `listener` after each reload that took effect (its models may have changed); returns the
   * function that stops it.
   */
  onReload (listener: () => void): () => void {
    this.#reloaded.add(listener)
    return () => this.#reloaded.delete(listener)
  }

  /**
   * Fetches the model lists of the providers that serve "*", so bare model names find their
   * provider from the first call.
   */
  warmUp (): void {
    if (this.#table.providers.size < 2) return
    for (const provider of this.#table.providers.values()) {
      // Not awaited: refresh never rejects, and its result lands in the cache.
      if (provider.config.models === '*') provider.models.refresh()
    }
  }

  #build (config: RoutingConfig, previous?: RoutingTable): RoutingTable {
    const providers = new Map(config.providers.map((providerConfig) => {
      const known = previous?.providers.get(providerConfig.name)
      const unchanged = known && JSON.stringify(known.config) === JSON.stringify(providerConfig)
      const provider = unchanged ? known : new Provider(providerConfig, this.dependencies, config.file !== undefined)
      return [providerConfig.name, provider]
    }))
    return new RoutingTable(config, providers)
  }
}
