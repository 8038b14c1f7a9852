import type { UpstreamResult } from './call-record.js'

/** How one provider and model fared over the window: its calls, how many failed, and its latency percentiles. */
export interface UpstreamHealthRow {
  provider: string
  /** `-` for calls that name no model. */
  model: string
  calls: number
  failures: number
  p50Ms: number
  p95Ms: number
}

export interface UpstreamHealthOptions {
  /** How far back the figures reach. */
  windowMs: number
  /** Most calls kept per provider and model: older ones go first, so a busy pair is described by its latest calls. */
  maxSamples: number
  /**
   * Most provider and model pairs kept: the one heard of least recently goes first (client-chosen
   * model names are unbounded).
   */
  maxPairs: number
  now?: () => number
}

interface Sample {
  at: number
  durationMs: number
  failed: boolean
}

/**
 * Error rate and latency per provider and model over the last few minutes, from the upstream calls
 * of finished tool calls; bounded in pairs and samples, so it stays small however long the process runs.
 */
export class UpstreamHealth {
  readonly #pairs = new Map<string, { provider: string, model: string, samples: Sample[] }>()
  readonly #now: () => number

  constructor (private readonly options: UpstreamHealthOptions) {
    this.#now = options.now ?? Date.now
  }

  add ({ provider, model = '-', outcome, durationMs }: UpstreamResult): void {
    const key = `${provider}\n${model}`
    const pair = this.#pairs.get(key) ?? { provider, model, samples: [] }
    // Re-inserted: the map's order is the order pairs were last heard of.
    this.#pairs.delete(key)
    this.#pairs.set(key, pair)
    pair.samples.push({ at: this.#now(), durationMs, failed: outcome !== 'ok' })
    if (pair.samples.length > this.options.maxSamples) pair.samples.shift()
    if (this.#pairs.size > this.options.maxPairs) this.#pairs.delete(this.#pairs.keys().next().value as string)
  }

  /** Every pair with calls in the window, by provider then model. */
  rows (): UpstreamHealthRow[] {
    const cutoff = this.#now() - this.options.windowMs
    const rows: UpstreamHealthRow[] = []
    for (const [key, pair] of this.#pairs) {
      const recent = pair.samples.filter((sample) => sample.at >= cutoff)
      pair.samples = recent
      if (recent.length === 0) {
        this.#pairs.delete(key)
        continue
      }
      const durations = recent.map((sample) => sample.durationMs).sort((a, b) => a - b)
      rows.push({
        provider: pair.provider,
        model: pair.model,
        calls: recent.length,
        failures: recent.filter((sample) => sample.failed).length,
        p50Ms: Math.round(percentile(durations, 0.5)),
        p95Ms: Math.round(percentile(durations, 0.95)),
      })
    }
    return rows.sort((a, b) => a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model))
  }
}

/** The nearest-rank percentile of sorted values (at least one). */
function percentile (sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? 0
}
