import type { UpstreamModel } from '../upstream/models.js'

/** Readiness' view of one provider's upstream: the last time its `/models` was asked for, and how that went. */
export interface ProviderCheck {
  status: 'ok' | 'failing' | 'not_checked'
  checkedAt?: string
  latencyMs?: number
  error?: string
}

export interface ProviderModelsOptions {
  /** How long a check result answers readiness probes (READY_CHECK_TTL_MS); a failure is checked again sooner. */
  checkTtlMs: number
  /** How long a model list is fresh (MODELS_CACHE_TTL_MS); an older one is still served while a new one is fetched. */
  listTtlMs: number
}

// A failing upstream is asked again sooner than a healthy one, so recovery shows quickly.
const FAILURE_TTL_MS = 5000

/**
 * One provider's `/models`, fetched once for two readers: readiness (is the upstream answering?)
 * and list_models and routing (which models does it have?). Concurrent readers share one fetch, so
 * Kubernetes probes and busy clients never turn into one upstream call each.
 */
export class ProviderModels {
  #models: UpstreamModel[] | undefined
  #listedAt = 0
  #check: ProviderCheck = { status: 'not_checked' }
  #checkedAt = 0
  #lastError: unknown
  #pending: Promise<void> | undefined

  constructor (
    private readonly fetchModels: (requestId: string | undefined) => Promise<UpstreamModel[]>,
    private readonly options: ProviderModelsOptions
  ) {}

  /** The last model list, if one was ever fetched; never waits. */
  get cached (): UpstreamModel[] | undefined {
    return this.#models
  }

  /** The readiness check: the last result while recent, else a new fetch. */
  async check (): Promise<ProviderCheck> {
    const ttl = this.#check.status === 'ok' ? this.options.checkTtlMs : Math.min(FAILURE_TTL_MS, this.options.checkTtlMs)
    if (this.#check.status === 'not_checked' || Date.now() - this.#checkedAt >= ttl) await this.refresh()
    return this.#check
  }

  /**
   * The models. A stale list is returned at once and refreshed in the background; with no list
   * yet, this waits for the first one and throws the upstream's failure if there is none.
   * `requestId` goes with the fetch this call starts, if it starts one.
   */
  async list (requestId?: string): Promise<UpstreamModel[]> {
    if (this.#models) {
      // Not awaited, and nothing to catch: refresh never rejects, and its result lands in the cache.
      if (Date.now() - this.#listedAt >= this.options.listTtlMs) this.refresh()
      return this.#models
    }
    await this.refresh(requestId)
    if (!this.#models) throw this.#lastError
    return this.#models
  }

  /** Fetches the list now, unless a fetch is already running; never rejects (the result is in {@link check}). */
  async refresh (requestId?: string): Promise<void> {
    this.#pending ??= this.#fetch(requestId).finally(() => { this.#pending = undefined })
    return this.#pending
  }

  async #fetch (requestId: string | undefined): Promise<void> {
    const started = performance.now()
    let check: ProviderCheck
    try {
      this.#models = await this.fetchModels(requestId)
      this.#listedAt = Date.now()
      check = { status: 'ok' }
    } catch (err) {
      this.#lastError = err
      check = { status: 'failing', error: err instanceof Error ? err.message : String(err) }
    }
    this.#checkedAt = Date.now()
    const latencyMs = Math.round(performance.now() - started)
    this.#check = { ...check, checkedAt: new Date(this.#checkedAt).toISOString(), latencyMs }
  }
}
