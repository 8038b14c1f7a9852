import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { callUpstream } from '../src/upstream/errors.js'
import { listModels } from '../src/upstream/models.js'

export interface UpstreamStatus {
  status: 'ok' | 'failing' | 'not_checked'
  checkedAt?: string
  latencyMs?: number
  error?: string
}

const PROBE_TIMEOUT_MS = 5000
// A failing upstream is asked again sooner than a healthy one, so recovery shows quickly.
const FAILURE_TTL_MS = 5000

/**
 * Readiness' view of the upstream: one cheap call (`GET /models`), its result reused for a while
 * and shared by concurrent probes, so Kubernetes probes never turn into one upstream call each.
 */
export class UpstreamProbe {
  #last: { result: UpstreamStatus, at: number } | undefined
  #pending: Promise<UpstreamStatus> | undefined

  constructor (
    private readonly check: () => Promise<void>,
    private readonly ttlMs: number
  ) {}

  async status (): Promise<UpstreamStatus> {
    const last = this.#last
    if (last && Date.now() - last.at < (last.result.status === 'ok' ? this.ttlMs : Math.min(FAILURE_TTL_MS, this.ttlMs))) {
      return last.result
    }
    this.#pending ??= this.#probe().finally(() => { this.#pending = undefined })
    return this.#pending
  }

  async #probe (): Promise<UpstreamStatus> {
    const started = performance.now()
    let result: UpstreamStatus
    try {
      await this.check()
      result = { status: 'ok' }
    } catch (err) {
      result = { status: 'failing', error: err instanceof Error ? err.message : String(err) }
    }
    result.checkedAt = new Date().toISOString()
    result.latencyMs = Math.round(performance.now() - started)
    this.#last = { result, at: Date.now() }
    return result
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** `undefined` when READY_CHECK_UPSTREAM=false. */
    upstreamProbe: UpstreamProbe | undefined
  }
}

async function upstreamProbePlugin (fastify: FastifyInstance) {
  const { config, openai } = fastify
  // The probe has no caller to cancel it; its only limit is its own deadline.
  const uncancelled = new AbortController().signal
  const check = async () => {
    await callUpstream(
      { operation: 'the readiness check', baseURL: config.OPENAI_BASE_URL, timeoutMs: PROBE_TIMEOUT_MS, signal: uncancelled },
      (signal) => listModels(openai, { signal, requestId: `readiness-${randomUUID()}` })
    )
  }
  const probe = config.READY_CHECK_UPSTREAM ? new UpstreamProbe(check, config.READY_CHECK_TTL_MS) : undefined
  fastify.decorate('upstreamProbe', probe)
}

export default fp(upstreamProbePlugin, { name: 'upstream-probe', dependencies: ['config', 'openai'] })
