import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { toToolError } from '../src/upstream/errors.js'
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
    private readonly ttlMs: number,
    private readonly describeFailure: (err: unknown) => string
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
      result = { status: 'failing', error: this.describeFailure(err) }
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
  // The probe has no caller to cancel it; its only limit is the SDK timeout.
  const signal = new AbortController().signal
  const probe = config.READY_CHECK_UPSTREAM
    ? new UpstreamProbe(
      async () => { await listModels(openai, { signal, requestId: `readiness-${randomUUID()}`, timeoutMs: PROBE_TIMEOUT_MS, maxRetries: 0 }) },
      config.READY_CHECK_TTL_MS,
      (err) => toToolError(err, { operation: 'the readiness check', baseURL: config.OPENAI_BASE_URL, timeoutMs: PROBE_TIMEOUT_MS, signal }).message
    )
    : undefined
  fastify.decorate('upstreamProbe', probe)
}

export default fp(upstreamProbePlugin, { name: 'upstream-probe', dependencies: ['config', 'openai'] })
