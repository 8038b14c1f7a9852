import type { FastifyBaseLogger } from 'fastify'
import { Provider, type ProviderDependencies } from './provider.js'
import { RoutingTable } from './routing-table.js'
import type { RoutingSettings } from './settings.js'

/**
 * The routing table in force, and its replacement on reload. Each call takes the table once, at
 * its start, so a reload never changes where a running call goes. Providers whose settings did
 * not change are carried over with their circuits, queues and model lists.
 */
export class ModelRouter {
  #table: RoutingTable

  constructor (
    settings: RoutingSettings,
    private readonly dependencies: ProviderDependencies,
    private readonly loadSettings: () => Promise<RoutingSettings>,
    private readonly log: FastifyBaseLogger
  ) {
    this.#table = this.#build(settings)
  }

  get table (): RoutingTable {
    return this.#table
  }

  /**
   * Reads the configuration again and switches to it. An invalid one is rejected with a log line
   * and the table in force stays; the result says which happened.
   */
  async reload (why: string): Promise<boolean> {
    let settings: RoutingSettings
    try {
      settings = await this.loadSettings()
    } catch (err) {
      this.log.error({ reason: why }, `routing configuration not reloaded, the previous one stays: ${err instanceof Error ? err.message : String(err)}`)
      return false
    }
    const previous = this.#table
    this.#table = this.#build(settings, previous)
    for (const name of previous.providers.keys()) {
      if (!this.#table.providers.get(name)?.breaker) this.dependencies.metrics.forgetCircuit(name)
    }
    this.warmUp()
    const kept = [...this.#table.providers.values()].filter((provider) => previous.providers.get(provider.name) === provider).map((provider) => provider.name)
    this.log.info({ reason: why, providers: [...this.#table.providers.keys()], kept, aliases: Object.keys(settings.aliases) }, 'routing configuration reloaded')
    return true
  }

  /** Fetches the model lists of the providers that serve "*", so bare model names find their provider from the first call. */
  warmUp (): void {
    if (this.#table.providers.size < 2) return
    for (const provider of this.#table.providers.values()) {
      // Not awaited: refresh never rejects, and its result lands in the cache.
      if (provider.settings.models === '*') provider.models.refresh()
    }
  }

  #build (settings: RoutingSettings, previous?: RoutingTable): RoutingTable {
    const providers = new Map(settings.providers.map((providerSettings) => {
      const known = previous?.providers.get(providerSettings.name)
      const unchanged = known && JSON.stringify(known.settings) === JSON.stringify(providerSettings)
      return [providerSettings.name, unchanged ? known : new Provider(providerSettings, this.dependencies, settings.file !== undefined)]
    }))
    return new RoutingTable(settings, providers)
  }
}
