import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { CallRecord } from './call-record.js'
import type { PriceTable } from './prices.js'

export interface MetricsSources {
  openSessions: () => number
  sessionsTakenOver: () => number
  inFlightCalls: () => number
}

export interface UpstreamCallMetric {
  provider: string
  operation: string
  /** `ok`, or the tool error code the failure became. */
  outcome: string
  /** The upstream's HTTP status when it answered with an error. */
  status?: number
  seconds: number
}

export interface RouterMetricsOptions {
  prices: PriceTable
  /** Models that are labelled by name from the start: the configured defaults and the priced ones. */
  knownModels: string[]
  sources: MetricsSources
}

/** The `client` label of calls made while the router runs open (no client keys). */
export const ANONYMOUS_CLIENT = 'anonymous'

/** Model names from clients are unbounded; past this many distinct names, new ones fold into `other`. */
const MAX_MODEL_LABELS = 200

// A model name an upstream echoes back may be anything a client sent: only names that look like model
// ids (short, printable, no spaces) become labels, so one call cannot grow or break the exposition.
const labelledModelName = /^[\w.:/@+-]{1,100}$/

// The methods this router serves or receives; anything else a client sends is counted as `other`.
const mcpMethods = new Set([
  'initialize', 'ping', 'tools/list', 'tools/call',
  'notifications/initialized', 'notifications/cancelled', 'notifications/progress', 'notifications/roots/list_changed',
])

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

let processRegistry: Registry | undefined

/**
 * The router's Prometheus metrics. Every label has a bounded set of values: models are named only
 * once an upstream has answered with them (or they are configured or priced), MCP methods only
 * when the router knows them, and no label ever holds a session or request id.
 */
export class RouterMetrics {
  readonly #registry = new Registry()
  readonly #prices: PriceTable
  readonly #modelLabels: Set<string>
  readonly #httpDuration: Histogram<'method' | 'route' | 'status_code'>
  readonly #mcpMessages: Counter<'method' | 'outcome'>
  readonly #toolDuration: Histogram<'tool' | 'model' | 'outcome' | 'client'>
  readonly #upstreamDuration: Histogram<'provider' | 'operation' | 'outcome'>
  readonly #upstreamErrors: Counter<'provider' | 'operation' | 'status' | 'code'>
  readonly #upstreamRetries: Counter<'provider' | 'operation' | 'code'>
  readonly #fallbacks: Counter<'from_provider' | 'to_provider' | 'reason'>
  readonly #circuitState: Gauge<'provider'>
  readonly #tokens: Counter<'model' | 'type' | 'client'>
  readonly #cost: Counter<'model' | 'client'>
  readonly #limitRefusals: Counter<'client' | 'limit'>
  readonly #cacheLookups: Counter<'tool' | 'outcome'>

  constructor ({ prices, knownModels, sources }: RouterMetricsOptions) {
    this.#prices = prices
    this.#modelLabels = new Set(knownModels)
    const registers = [this.#registry]
    this.#httpDuration = new Histogram({ name: 'mcp_router_http_request_duration_seconds', help: 'HTTP requests by route and status.', labelNames: ['method', 'route', 'status_code'], buckets: latencyBuckets, registers })
    this.#mcpMessages = new Counter({ name: 'mcp_router_mcp_messages_total', help: 'MCP messages handled, by JSON-RPC method and outcome (ok, tool_error, a JSON-RPC error code, or abandoned).', labelNames: ['method', 'outcome'], registers })
    this.#toolDuration = new Histogram({ name: 'mcp_router_tool_call_duration_seconds', help: 'Tool calls by tool, model, outcome (ok or the error code) and client (anonymous when the router runs open).', labelNames: ['tool', 'model', 'outcome', 'client'], buckets: latencyBuckets, registers })
    this.#upstreamDuration = new Histogram({ name: 'mcp_router_upstream_request_duration_seconds', help: 'Upstream calls by provider, operation and outcome.', labelNames: ['provider', 'operation', 'outcome'], buckets: latencyBuckets, registers })
    this.#upstreamErrors = new Counter({ name: 'mcp_router_upstream_errors_total', help: 'Failed upstream calls by provider, operation, HTTP status (none when no answer came) and error code.', labelNames: ['provider', 'operation', 'status', 'code'], registers })
    this.#upstreamRetries = new Counter({ name: 'mcp_router_upstream_retries_total', help: 'Upstream attempts repeated after a rate limit or transient failure, by provider, operation and the failure\'s code.', labelNames: ['provider', 'operation', 'code'], registers })
    this.#fallbacks = new Counter({ name: 'mcp_router_fallbacks_total', help: 'Calls passed on to the next model of a fallback list, by the provider that failed, the provider tried next, and the failure\'s code.', labelNames: ['from_provider', 'to_provider', 'reason'], registers })
    this.#circuitState = new Gauge({ name: 'mcp_router_provider_circuit_state', help: 'Circuit breaker of each provider: 0 closed, 1 half-open (probing), 2 open (failing fast).', labelNames: ['provider'], registers })
    this.#tokens = new Counter({ name: 'mcp_router_tokens_total', help: 'Tokens the upstream reported, by model, type (input or output) and client.', labelNames: ['model', 'type', 'client'], registers })
    this.#cost = new Counter({ name: 'mcp_router_cost_usd_total', help: 'Estimated cost in USD by model and client, from the price table (MODEL_PRICES and IMAGE_PRICES over built-in list prices).', labelNames: ['model', 'client'], registers })
    this.#limitRefusals = new Counter({ name: 'mcp_router_limit_refusals_total', help: 'Requests and calls refused by a client\'s limit: requests_per_minute (HTTP 429), tokens_per_minute, tokens_per_day, tokens_per_month, usd_per_day, usd_per_month, or usd_unpriced_model (a USD budget and a model without a price).', labelNames: ['client', 'limit'], registers })
    this.#cacheLookups = new Counter({ name: 'mcp_router_cache_lookups_total', help: 'Calls of cached tools by tool and outcome: hit (answered from the response cache), miss (answered upstream, stored) or bypass (not cacheable, or cache: no-store).', labelNames: ['tool', 'outcome'], registers })
    // Read at scrape time from their sources, never updated in between.
    this.#registry.registerMetric(new Gauge({ name: 'mcp_router_mcp_sessions', help: 'Open MCP sessions (stateful mode).', registers: [], collect () { this.set(sources.openSessions()) } }))
    this.#registry.registerMetric(new Counter({ name: 'mcp_router_mcp_sessions_taken_over_total', help: 'MCP sessions this replica took over from another (MCP_EVENT_STORE=redis).', registers: [], collect () { this.reset(); this.inc(sources.sessionsTakenOver()) } }))
    this.#registry.registerMetric(new Gauge({ name: 'mcp_router_in_flight_tool_calls', help: 'Tool calls running now.', registers: [], collect () { this.set(sources.inFlightCalls()) } }))
    // Process metrics describe the process, not one app: one collector however many apps it holds.
    if (!processRegistry) {
      processRegistry = new Registry()
      collectDefaultMetrics({ register: processRegistry })
    }
  }

  get contentType (): string {
    return this.#registry.contentType
  }

  async exposition (): Promise<string> {
    const [own, process] = await Promise.all([this.#registry.metrics(), processRegistry?.metrics() ?? ''])
    return `${own}\n${process}`
  }

  httpRequest (method: string, route: string, statusCode: number, seconds: number): void {
    this.#httpDuration.observe({ method, route, status_code: statusCode }, seconds)
  }

  mcpMessage (method: string, outcome: string): void {
    this.#mcpMessages.inc({ method: mcpMethods.has(method) ? method : 'other', outcome })
  }

  toolCall (record: CallRecord): void {
    const answered = record.modelAnswered
    const labelled = answered && this.#modelLabels.size < MAX_MODEL_LABELS && labelledModelName.test(answered)
    if (labelled) this.#modelLabels.add(answered)
    const model = this.#modelLabel(record.modelAnswered ?? record.modelRequested)
    // Client names come from the configuration: a bounded set.
    const client = record.client ?? ANONYMOUS_CLIENT
    this.#toolDuration.observe({ tool: record.tool, model, outcome: record.errorCode ?? record.outcome ?? 'ok', client }, record.durationMs / 1000)
    if (record.inputTokens > 0) this.#tokens.inc({ model, type: 'input', client }, record.inputTokens)
    if (record.outputTokens > 0) this.#tokens.inc({ model, type: 'output', client }, record.outputTokens)
    const cost = answered && this.#prices.costOfCall({
      model: answered,
      inputTokens: record.inputTokens,
      outputTokens: record.outputTokens,
      images: record.images,
    })
    if (cost) this.#cost.inc({ model, client }, cost)
    if (record.cache) this.#cacheLookups.inc({ tool: record.tool, outcome: record.cache })
  }

  upstreamCall ({ provider, operation, outcome, status, seconds }: UpstreamCallMetric): void {
    this.#upstreamDuration.observe({ provider, operation, outcome }, seconds)
    if (outcome !== 'ok') this.#upstreamErrors.inc({ provider, operation, status: status ?? 'none', code: outcome })
  }

  upstreamRetry ({ provider, operation, code }: { provider: string, operation: string, code: string }): void {
    this.#upstreamRetries.inc({ provider, operation, code })
  }

  fallback ({ from, to, reason }: { from: string, to: string, reason: string }): void {
    this.#fallbacks.inc({ from_provider: from, to_provider: to, reason })
  }

  limitRefused (client: string, limit: string): void {
    this.#limitRefusals.inc({ client, limit })
  }

  /** Refusals by a client's limit counted so far by this process (the status page's "refused" column). */
  async limitRefusals (): Promise<Array<{ client: string, limit: string, count: number }>> {
    const { values } = await this.#limitRefusals.get()
    return values.map(({ labels, value }) => ({
      client: String(labels.client),
      limit: String(labels.limit),
      count: value,
    }))
  }

  /** Response cache lookups so far by this process, by outcome (hit, miss, bypass). */
  async cacheLookups (): Promise<Record<string, number>> {
    const { values } = await this.#cacheLookups.get()
    const totals: Record<string, number> = {}
    for (const { labels, value } of values) {
      const outcome = String(labels.outcome)
      totals[outcome] = (totals[outcome] ?? 0) + value
    }
    return totals
  }

  circuitState (provider: string, state: 'closed' | 'half_open' | 'open'): void {
    this.#circuitState.set({ provider }, state === 'closed' ? 0 : state === 'half_open' ? 1 : 2)
  }

  /** A provider no longer has a circuit breaker (a reload removed it, or its breaker): it has no state to report. */
  forgetCircuit (provider: string): void {
    this.#circuitState.remove({ provider })
  }

  #modelLabel (model: string | undefined): string {
    if (model === undefined) return 'none'
    return this.#modelLabels.has(model) ? model : 'other'
  }
}
