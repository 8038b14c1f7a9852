import { Worker } from 'node:worker_threads'
import { ToolError } from '../../errors.js'
import { FairJobQueue, type JobRefusal } from './fair-job-queue.js'
import type { SchemaJob, SchemaJobOutcome, SchemaWorkerData, WORKER_READY } from './schema-worker.js'

/** What the router compiles of a client's schema, and how long and how much it keeps. */
export interface SchemaLimits {
  /** SCHEMA_MAX_BYTES: the schema's JSON text, in UTF-8 bytes. */
  maxBytes: number
  /** SCHEMA_MAX_NODES: values in it (objects, arrays, strings, numbers, booleans, nulls). */
  maxNodes: number
  /** SCHEMA_MAX_DEPTH: how deep objects and arrays nest in it. */
  maxDepth: number
  /** SCHEMA_TIMEOUT_MS: longest one compile, or one check of an answer, may take. */
  timeoutMs: number
  /** SCHEMA_CACHE_MAX_BYTES: estimated memory the compiled validators kept may take. */
  cacheMaxBytes: number
  /** SCHEMA_MAX_JOBS_PER_CLIENT: one caller's jobs waiting or running. */
  maxJobsPerClient: number
  /** SCHEMA_MAX_QUEUED_JOBS: every caller's jobs waiting. */
  maxQueuedJobs: number
}

/** A limit a schema passes: its setting, its value, and what of the schema passes it. */
interface LimitPassed {
  setting: 'SCHEMA_MAX_BYTES' | 'SCHEMA_MAX_NODES' | 'SCHEMA_MAX_DEPTH'
  limit: number
  what: string
}

/** A schema's size against the node and depth limits, walked without recursion and stopped at the first one passed. */
function schemaOverLimit (schema: unknown, { maxNodes, maxDepth }: Pick<SchemaLimits, 'maxNodes' | 'maxDepth'>): LimitPassed | undefined {
  const pending: Array<[value: unknown, depth: number]> = [[schema, 1]]
  let nodes = 0
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, depth] = next
    if (++nodes > maxNodes) return { setting: 'SCHEMA_MAX_NODES', limit: maxNodes, what: `has more than ${maxNodes} values` }
    if (typeof value !== 'object' || value === null) continue
    if (depth > maxDepth) return { setting: 'SCHEMA_MAX_DEPTH', limit: maxDepth, what: `has objects or arrays nested more than ${maxDepth} levels deep` }
    for (const item of Object.values(value)) pending.push([item, depth + 1])
  }
  return undefined
}

/** A job's outcome, or why the router did not see it through: `why` completes "response_format.schema …". */
type Outcome = SchemaJobOutcome | { outcome: 'refused', why: string }

interface QueuedJob {
  job: SchemaJob
  settle: (outcome: Outcome) => void
}

/** A job the queue would not take: refused at once, never waited for; sending it again later may pass. */
function queueRefusal (refusal: JobRefusal, { maxJobsPerClient, maxQueuedJobs }: SchemaLimits): ToolError {
  const why = refusal === 'owner_limit'
    ? `this client already has ${maxJobsPerClient} schema ${maxJobsPerClient === 1 ? 'check' : 'checks'} queued or running (SCHEMA_MAX_JOBS_PER_CLIENT=${maxJobsPerClient}); retry when its other structured-output calls have finished, send fewer at once, or ask the operator to raise SCHEMA_MAX_JOBS_PER_CLIENT`
    : `${maxQueuedJobs} schema checks are already waiting (SCHEMA_MAX_QUEUED_JOBS=${maxQueuedJobs}); retry shortly, or ask the operator to raise SCHEMA_MAX_QUEUED_JOBS`
  return new ToolError('rate_limited', `The router's schema checker is busy: ${why}.`, { retryable: true, retryAfterSeconds: 1 })
}

const invalidSchema = (why: string) => new ToolError('invalid_arguments', `Invalid arguments for chat: response_format.schema ${why}.`, { retryable: false })

const overLimit = ({ setting, limit, what }: LimitPassed) => invalidSchema(`${what}, past what the router compiles (${setting}=${limit}); simplify it, or ask the operator to raise ${setting}`)

/** A job's failure as the client is told it. */
function failure (outcome: Exclude<Outcome, { outcome: 'ok' | 'mismatch' }>): ToolError {
  if (outcome.outcome === 'refused') return invalidSchema(outcome.why)
  return invalidSchema(`is not a usable JSON Schema (${outcome.reason})`)
}

/** The worker's heap: room for the largest schema the limits admit to compile, and the kept validators' data. */
const WORKER_HEAP_MB = 256

const SHUTTING_DOWN: Outcome = { outcome: 'refused', why: 'could not be checked: the router is shutting down; send the call again' }

/**
 * Compiles clients' schemas and checks answers against them in a worker thread, one job at a
 * time, each within SCHEMA_TIMEOUT_MS, taken round-robin across callers, each holding at most
 * SCHEMA_MAX_JOBS_PER_CLIENT, at most SCHEMA_MAX_QUEUED_JOBS waiting in all: no caller can hold
 * back another's checks or grow the queue without end. Ajv's compile takes milliseconds per kilobyte of schema
 * (docs/performance.md), which on the main thread would stall every client's requests and
 * `/health`. A job past its time ends the worker (a new one takes the next job); so does one
 * that runs the worker out of memory.
 */
export class SchemaChecker {
  readonly #queue: FairJobQueue<QueuedJob>
  #worker: Worker | undefined
  /** Whether the worker said it can take jobs. */
  #ready = false
  #running: { owner: string, queued: QueuedJob, timer: NodeJS.Timeout } | undefined

  constructor (private readonly limits: SchemaLimits) {
    this.#queue = new FairJobQueue({ maxPerOwner: limits.maxJobsPerClient, maxQueued: limits.maxQueuedJobs })
  }

  /**
   * Refuses (`invalid_arguments`, naming the limit or the problem) a schema the router will not or
   * cannot compile, and (`rate_limited`, naming the setting) a check past `caller`'s share of the queue.
   */
  async check (caller: string, schema: Record<string, unknown>): Promise<void> {
    const outcome = await this.#run(caller, schema)
    if (outcome.outcome === 'unusable' || outcome.outcome === 'refused') throw failure(outcome)
  }

  /** Why `answer` (JSON text) does not match `schema`, or undefined when it does; refused as {@link check} is. */
  async mismatch (caller: string, schema: Record<string, unknown>, answer: string): Promise<string | undefined> {
    const outcome = await this.#run(caller, schema, answer)
    if (outcome.outcome === 'unusable' || outcome.outcome === 'refused') throw failure(outcome)
    return outcome.outcome === 'mismatch' ? outcome.errors : undefined
  }

  /** Ends the worker; calls still waiting for it are told the router is shutting down. */
  async close (): Promise<void> {
    const worker = this.#worker
    this.#worker = undefined
    for (const { settle } of this.#queue.drain()) settle(SHUTTING_DOWN)
    this.#settle(SHUTTING_DOWN)
    await worker?.terminate()
  }

  async #run (caller: string, schema: Record<string, unknown>, answer?: string): Promise<Outcome> {
    const { maxBytes } = this.limits
    const over = schemaOverLimit(schema, this.limits)
    if (over) throw overLimit(over)
    const text = JSON.stringify(schema)
    const bytes = Buffer.byteLength(text)
    if (bytes > maxBytes) throw overLimit({ setting: 'SCHEMA_MAX_BYTES', limit: maxBytes, what: `is ${bytes} bytes of JSON` })
    return new Promise((resolve, reject) => {
      const job = { schema: text, ...(answer !== undefined && { answer }) }
      const refusal = this.#queue.add(caller, { job, settle: resolve })
      if (refusal) return reject(queueRefusal(refusal, this.limits))
      this.#next()
    })
  }

  #next (): void {
    if (this.#running) return
    if (this.#queue.size === 0) return
    const worker = this.#worker ?? this.#start()
    const next = this.#ready ? this.#queue.take() : undefined
    if (!next) return
    const { owner, job: queued } = next
    const timer = setTimeout(() => this.#fail(`took longer than the router allows (SCHEMA_TIMEOUT_MS=${this.limits.timeoutMs}) to compile, or to check the answer against; simplify it`), this.limits.timeoutMs)
    this.#running = { owner, queued, timer }
    worker.postMessage(queued.job)
  }

  #start (): Worker {
    const workerData: SchemaWorkerData = { cacheMaxBytes: this.limits.cacheMaxBytes }
    const worker = new Worker(new URL('./schema-worker.js', import.meta.url), { workerData, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } })
    worker.unref()
    worker.on('message', (message: SchemaJobOutcome | typeof WORKER_READY) => {
      if (typeof message !== 'string') return this.#settle(message)
      this.#ready = true
      this.#next()
    })
    worker.on('error', (err) => this.#fail(`could not be compiled: the compiler stopped (${err.message}); simplify it`))
    worker.on('exit', () => {
      if (this.#worker === worker) this.#worker = undefined
    })
    this.#worker = worker
    this.#ready = false
    return worker
  }

  #settle (outcome: Outcome): void {
    const running = this.#running
    if (!running) return
    clearTimeout(running.timer)
    this.#running = undefined
    this.#queue.done(running.owner)
    running.queued.settle(outcome)
    this.#next()
  }

  /**
   * The running job failed with the worker (its time ran out, or the worker died), or, when none
   * was running, the worker failed to start: the job waiting first fails. A new worker takes the next.
   */
  #fail (why: string): void {
    const worker = this.#worker
    this.#worker = undefined
    worker?.terminate().catch(() => undefined)
    const failed: Outcome = { outcome: 'refused', why }
    if (!this.#running) this.#failFirstWaiting(failed)
    this.#settle(failed)
    this.#next()
  }

  #failFirstWaiting (failed: Outcome): void {
    const first = this.#queue.take()
    if (!first) return
    this.#queue.done(first.owner)
    first.job.settle(failed)
  }
}
