import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import OpenAI from 'openai'
import { ToolError } from '../errors.js'
import { maskedUrl } from '../masked-url.js'
import type { RouterMetrics } from '../observability/metrics.js'
import { lackedEndpoint, type SettingNames } from '../upstream/errors.js'
import { listModels, probeChatApi } from '../upstream/models.js'
import { upstreamFetch } from '../upstream/upstream-fetch.js'
import { CircuitBreaker, type CircuitState } from '../circuit-breaker.js'
import { attempt } from './pipeline/attempt.js'
import { Deadline } from './pipeline/deadline.js'
import { wrap } from './pipeline/policy.js'
import { timeLimit } from './pipeline/time-limit.js'
import { type AttemptExit, startCall, type UpstreamCall, type UpstreamProvider } from './pipeline/upstream-call.js'
import { ConcurrencyLimiter, SlotRefused } from './concurrency-limiter.js'
import type { ProviderConfig } from './routing-config.js'
import { type ProviderCheck, ProviderModels } from './provider-models.js'

export interface ProviderDependencies {
  metrics: RouterMetrics
  log: FastifyBaseLogger
  checkTtlMs: number
  modelsTtlMs: number
  /** The most bytes read from one upstream answer (UPSTREAM_MAX_BODY_BYTES). */
  maxBodyBytes: number
  /** The time circuits open and cool down by (Date.now; tests move their own). */
  clock: () => number
}

/** A provider as `/ready` shows it. */
export interface ProviderStatus {
  baseURL: string
  api: ProviderConfig['api']
  circuit: CircuitState | 'disabled'
  /** Models whose own circuit is open or probing (after model-level failures such as overload). */
  modelCircuits?: Record<string, CircuitState>
  lastFailure?: string
  inFlight?: number
  queued?: number
}

const LIST_TIMEOUT_MS = 10_000
// A missing API is asked about again sooner than a present one, so a fix (or a reload) shows quickly.
const API_RECHECK_MS = 5000
// Model-level circuits are kept for the models that failed; past this many, closed ones are dropped first.
const MAX_MODEL_CIRCUITS = 100
// Listing a provider's models is bounded in time and its failures explained; it is neither gated nor retried.
const listPolicies = wrap<UpstreamCall>(timeLimit, attempt)

/** Whether a failure says something about the whole provider, one of its models, or neither. */
function failureScope (error: ToolError, countTimeouts: boolean): 'provider' | 'model' | undefined {
  switch (error.code) {
    case 'rate_limited':
      // OpenAI's rate limits are per model; another model of the same provider may still answer.
      return 'model'
    case 'upstream_unavailable':
      return isOverloaded(error) ? 'model' : 'provider'
    case 'timeout':
      // A deadline the client chose (timeout_ms) says nothing about the upstream's health.
      return countTimeouts ? 'provider' : undefined
    case 'upstream_auth':
    case 'quota_exceeded':
    case 'upstream_invalid_response':
      return 'provider'
    default:
      return undefined
  }
}

/** The upstream said the model is overloaded (OpenAI's 503 "overloaded", 529 of others). */
function isOverloaded (error: ToolError): boolean {
  return error.code === 'upstream_unavailable' && (error.details.upstreamStatus === 529 || /overload/i.test(error.message))
}

/**
 * One upstream the router can send calls to: its client (its key, URL and headers), its circuit
 * breakers (one for the provider, one per model after model-level failures), its concurrency
 * limit, and its model list. Kept across configuration reloads while its config is unchanged,
 * so reloading does not reset what the router has learnt about it.
 */
export class Provider implements UpstreamProvider {
  readonly client: OpenAI
  readonly models: ProviderModels
  readonly breaker: CircuitBreaker | undefined
  readonly limiter: ConcurrencyLimiter | undefined
  /** How messages name its settings: the environment's for the one provider, the file's otherwise. */
  readonly settingNames: SettingNames
  readonly url: URL
  readonly #modelBreakers = new Map<string, CircuitBreaker>()
  /** The last probe of chat's API: when it ran, and what it found missing. */
  #apiProbe: { at: number, missing: string | undefined } | undefined
  #apiProbing: Promise<string | undefined> | undefined

  constructor (
    readonly config: ProviderConfig,
    private readonly dependencies: ProviderDependencies,
    fromFile: boolean
  ) {
    const { name, baseURL, apiKey, headers, timeoutMs } = config
    this.client = new OpenAI({
      // A provider without a key (a local vLLM or Ollama) gets no Authorization header at all.
      apiKey: apiKey ?? 'none',
      baseURL,
      timeout: timeoutMs,
      defaultHeaders: { ...headers, ...(apiKey === undefined && { Authorization: null }) },
      // Retries are the router's own (src/routing/pipeline/retry.ts), in one place, aware of what
      // the client has already seen.
      maxRetries: 0,
      // The SDK logs to the console by default; the router's own log lines already cover each call.
      logLevel: 'off',
      fetch: async (input, init) => upstreamFetch(input, init, dependencies.maxBodyBytes),
    })
    this.settingNames = fromFile
      ? { key: config.keySource, baseURL: `baseURL of provider "${name}" (ROUTER_CONFIG)`, api: `api of provider "${name}" (ROUTER_CONFIG)` }
      : { key: 'OPENAI_API_KEY', baseURL: 'OPENAI_BASE_URL', api: 'UPSTREAM_API' }
    this.url = new URL(baseURL)
    this.breaker = config.circuitBreaker &&
      new CircuitBreaker(config.circuitBreaker, (state) => this.#circuitChanged(state), dependencies.clock)
    if (this.breaker) dependencies.metrics.circuitState(name, this.breaker.state)
    this.limiter = config.concurrency && new ConcurrencyLimiter(config.concurrency)
    this.models = new ProviderModels((requestId) => this.#fetchModels(requestId), {
      checkTtlMs: dependencies.checkTtlMs,
      listTtlMs: dependencies.modelsTtlMs,
    })
  }

  get name (): string {
    return this.config.name
  }

  /**
   * Readiness: its `/models` answers (the check list_models shares), and the API chat calls
   * (UPSTREAM_API, or `api` in ROUTER_CONFIG) exists there: a compatible server without the
   * Responses API lists its models all the same, then fails every chat.
   */
  async check (): Promise<ProviderCheck> {
    const [models, missingApi] = await Promise.all([this.models.check(), this.#missingApi()])
    return models.status === 'ok' && missingApi !== undefined ? { ...models, status: 'failing', error: missingApi } : models
  }

  async #missingApi (): Promise<string | undefined> {
    const { checkTtlMs } = this.dependencies
    const ttl = this.#apiProbe?.missing === undefined ? checkTtlMs : Math.min(API_RECHECK_MS, checkTtlMs)
    if (this.#apiProbe && this.dependencies.clock() - this.#apiProbe.at < ttl) return this.#apiProbe.missing
    this.#apiProbing ??= this.#probeApi().finally(() => { this.#apiProbing = undefined })
    return this.#apiProbing
  }

  async #probeApi (): Promise<string | undefined> {
    let missing: string | undefined
    try {
      await probeChatApi(this.client, this.config.api, { signal: AbortSignal.timeout(Math.min(LIST_TIMEOUT_MS, this.config.timeoutMs)), requestId: `ready-${randomUUID()}` })
    } catch (err) {
      // Only a missing API counts: the expected 400 says it is there, and reachability is the models check's.
      missing = lackedEndpoint(err, this.config.api, this.config.baseURL, this.settingNames)
    }
    const newlyMissing = missing !== undefined && this.#apiProbe?.missing === undefined
    if (newlyMissing) this.dependencies.log.warn({ provider: this.name }, missing)
    this.#apiProbe = { at: this.dependencies.clock(), missing }
    return missing
  }

  /** Whether calls may go to it now: false only while its provider circuit is open. */
  get available (): boolean {
    return this.breaker?.state !== 'open' || this.dependencies.clock() >= this.breaker.retryAt
  }

  /**
   * Lets an attempt at `model` through: the circuit breakers, then a concurrency slot; what it
   * resolves with takes the attempt's outcome to the breakers it concerns and frees the slot.
   */
  async enter (
    model: string | undefined,
    signal: AbortSignal,
    { countTimeouts }: { countTimeouts: boolean }
  ): Promise<AttemptExit> {
    const modelBreaker = model === undefined ? undefined : this.#modelBreakers.get(model)
    const breakers = [this.breaker, modelBreaker].filter((breaker) => breaker !== undefined)
    const entered: CircuitBreaker[] = []
    for (const breaker of breakers) {
      if (!breaker.tryEnter()) {
        for (const other of entered) other.released()
        throw this.#circuitOpen(breaker, breaker === this.breaker ? undefined : model)
      }
      entered.push(breaker)
    }
    let releaseSlot = () => {}
    try {
      if (this.limiter) releaseSlot = await this.limiter.acquire(signal)
    } catch (err) {
      for (const breaker of entered) breaker.released()
      if (err instanceof SlotRefused) {
        const message = `Provider "${this.name}" is saturated: ${err.message} (maxConcurrency ${this.limiter?.limits.max}). Retry shortly, or use a model of another provider.`
        throw new ToolError('provider_saturated', message, { retryable: true, retryAfterSeconds: 1 })
      }
      throw err
    }
    return (error) => {
      releaseSlot()
      this.#settle(model, error, countTimeouts)
    }
  }

  status (): ProviderStatus {
    const modelCircuits = Object.fromEntries([...this.#modelBreakers].filter(([, breaker]) => breaker.state !== 'closed').map(([model, breaker]) => [model, breaker.state]))
    const lastFailure = this.breaker?.state === 'closed' ? undefined : this.breaker?.lastFailure
    return {
      baseURL: maskedUrl(this.config.baseURL),
      api: this.config.api,
      circuit: this.breaker?.state ?? 'disabled',
      ...(Object.keys(modelCircuits).length > 0 && { modelCircuits }),
      ...(lastFailure && { lastFailure }),
      ...(this.limiter && { inFlight: this.limiter.active, queued: this.limiter.queued }),
    }
  }

  #settle (model: string | undefined, error: ToolError | undefined, countTimeouts: boolean): void {
    const scope = error && failureScope(error, countTimeouts)
    const modelBreaker = model === undefined ? undefined : this.#modelBreakers.get(model)
    if (!error) {
      this.breaker?.succeeded()
      modelBreaker?.succeeded()
      if (model !== undefined && modelBreaker?.state === 'closed') this.#modelBreakers.delete(model)
      return
    }
    const reason = `${error.code}: ${error.message}`
    if (scope === 'provider') this.breaker?.failed(reason)
    else this.breaker?.released()
    if (scope === 'model' && model !== undefined && this.config.circuitBreaker) this.#modelBreaker(model).failed(reason)
    else modelBreaker?.released()
  }

  #modelBreaker (model: string): CircuitBreaker {
    let breaker = this.#modelBreakers.get(model)
    if (!breaker) {
      if (this.#modelBreakers.size >= MAX_MODEL_CIRCUITS) {
        const closed = [...this.#modelBreakers].find(([, candidate]) => candidate.state === 'closed')
        this.#modelBreakers.delete(closed?.[0] ?? this.#modelBreakers.keys().next().value as string)
      }
      breaker = new CircuitBreaker(this.config.circuitBreaker as NonNullable<ProviderConfig['circuitBreaker']>, (state) => this.#circuitChanged(state, model), this.dependencies.clock)
      this.#modelBreakers.set(model, breaker)
    }
    return breaker
  }

  #circuitOpen (breaker: CircuitBreaker, model: string | undefined): ToolError {
    const retryAfterSeconds = Math.max(1, Math.ceil((breaker.retryAt - this.dependencies.clock()) / 1000))
    const what = model ? `Model "${model}" of provider "${this.name}"` : `Provider "${this.name}"`
    return new ToolError('circuit_open', `${what} kept failing (last: ${breaker.lastFailure ?? 'unknown'}), so the router stopped calling it for now. Retry after ${retryAfterSeconds} s, or use another model.`, { retryable: true, retryAfterSeconds })
  }

  #circuitChanged (state: CircuitState, model?: string): void {
    const { log, metrics } = this.dependencies
    if (!model) metrics.circuitState(this.name, state)
    const fields = { provider: this.name, ...(model && { model }), circuit: state }
    if (state === 'open') log.warn({ ...fields, lastFailure: (model ? this.#modelBreakers.get(model) : this.breaker)?.lastFailure }, `circuit of ${model ? `${this.name}/${model}` : this.name} opened: calls fail fast until it is probed again`)
    else log.info(fields, `circuit of ${model ? `${this.name}/${model}` : this.name} ${state === 'closed' ? 'closed: calls go through again' : 'half-open: one probe call goes through'}`)
  }

  async #fetchModels (requestId: string | undefined) {
    const { metrics, log } = this.dependencies
    const started = performance.now()
    // A fetch has no caller to cancel it (many may share it); its only limit is its own deadline.
    const uncancelled = new AbortController().signal
    const operation = { name: 'list_models', operation: `listing the models of provider "${this.name}"` } as const
    // The time limit narrows it to the provider's own timeout when that is shorter.
    const call = startCall(operation, { provider: this }, uncancelled, new Deadline(LIST_TIMEOUT_MS))
    let failure: ToolError | undefined
    try {
      return await listPolicies(call, async ({ signal }) => listModels(this.client, { signal, requestId: requestId ?? `models-${randomUUID()}` }))
    } catch (err) {
      failure = err as ToolError
      log.warn({ provider: this.name, errorCode: failure.code, upstreamStatus: failure.details.upstreamStatus }, `listing the models of provider ${this.name} failed: ${failure.message}`)
      throw err
    } finally {
      const status = failure?.details.upstreamStatus
      metrics.upstreamCall({ provider: this.name, operation: 'list_models', outcome: failure?.code ?? 'ok', ...(status !== undefined && { status }), seconds: (performance.now() - started) / 1000 })
    }
  }
}
