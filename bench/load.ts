import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'

/** What one scenario measured: exact latencies (ms, sub-millisecond), not autocannon's whole-millisecond histogram. */
export interface LoadResult {
  requests: number
  errors: number
  /** Completed requests per second. */
  throughput: number
  p50: number
  p90: number
  p99: number
}

export interface HttpLoad {
  url: string
  /** The body of request number `id`: requests sharing an MCP session need ids of their own. */
  body: (id: number) => string
  headers: Record<string, string>
  connections: number
  durationS: number
  /** Requests per second across all connections; unset: as fast as the server answers (closed loop). */
  overallRate?: number
}

/** POSTs `body` over `connections` keep-alive connections for `durationS` (autocannon). */
export async function httpLoad (
  { url, body, headers, connections, durationS, overallRate }: HttpLoad
): Promise<LoadResult> {
  const latencies: number[] = []
  let errors = 0
  let id = 0
  const requests = [{ method: 'POST' as const, setupRequest: (request: autocannon.Request) => ({ ...request, body: body(++id) }) }]
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ url, method: 'POST', headers, requests, connections, duration: durationS, ...(overallRate && { overallRate }) }, (err, done) => err ? reject(err) : resolve(done))
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime)
      else errors++
    })
  })
  return summarize(latencies, result.duration, errors + result.errors + result.timeouts)
}

/**
 * `workers` loops each awaiting `call` back to back for `durationS`: load from a client library
 * rather than raw HTTP.
 */
export async function closedLoop (call: () => Promise<void>, workers: number, durationS: number): Promise<LoadResult> {
  const samples = new Samples()
  const deadline = samples.started + durationS * 1000
  await Promise.all(Array.from({ length: workers }, async () => {
    while (performance.now() < deadline) await samples.time(call)
  }))
  return samples.summary()
}

/**
 * `call` started `rate` times a second for `durationS`, at most `concurrency` at once (a call due
 * while that many run waits for one to end): latency at a given load, below saturation.
 */
export async function fixedRate (
  call: () => Promise<void>,
  rate: number,
  concurrency: number,
  durationS: number
): Promise<LoadResult> {
  const samples = new Samples()
  const running = new Set<Promise<void>>()
  for (let index = 0; index < rate * durationS; index++) {
    const wait = samples.started + index * 1000 / rate - performance.now()
    if (wait > 0) await sleep(wait)
    if (running.size >= concurrency) await Promise.race(running)
    const run = samples.time(call).finally(() => running.delete(run))
    running.add(run)
  }
  await Promise.all(running)
  return samples.summary()
}

/** The latencies and failures of calls timed from one start. */
class Samples {
  readonly started = performance.now()
  readonly #latencies: number[] = []
  #errors = 0

  /** Never rejects: a failed call is counted, not thrown. */
  async time (call: () => Promise<void>): Promise<void> {
    const start = performance.now()
    try {
      await call()
      this.#latencies.push(performance.now() - start)
    } catch {
      this.#errors++
    }
  }

  summary (): LoadResult {
    return summarize(this.#latencies, (performance.now() - this.started) / 1000, this.#errors)
  }
}

export function summarize (latencies: number[], durationS: number, errors: number): LoadResult {
  const sorted = Float64Array.from(latencies).sort()
  const at = (quantile: number) => sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))] as number
  const throughput = sorted.length / durationS
  return { requests: sorted.length, errors, throughput, p50: at(0.5), p90: at(0.9), p99: at(0.99) }
}
