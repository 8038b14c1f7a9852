/** How many jobs a queue holds: per owner (waiting or running), and in all (waiting). */
export interface JobQueueLimits {
  /** SCHEMA_MAX_JOBS_PER_CLIENT: one owner's jobs waiting or running. */
  maxPerOwner: number
  /** SCHEMA_MAX_QUEUED_JOBS: every owner's jobs waiting. */
  maxQueued: number
}

/** Why a job was not queued: its owner holds its share, or the queue is full. */
export type JobRefusal = 'owner_limit' | 'queue_full'

/**
 * Jobs waiting for one worker, served round-robin across their owners: the next job taken is the
 * oldest of the owner who has waited longest (since its last job was taken, or since it queued one),
 * so an owner with many jobs delays another's by at most one of its own. A job counts against its
 * owner from {@link add} to {@link done}.
 */
export class FairJobQueue<Job> {
  /** Waiting jobs by owner, owners in the order they are next served (a Map keeps insertion order). */
  readonly #waiting = new Map<string, Job[]>()
  readonly #running = new Map<string, number>()
  #size = 0

  constructor (private readonly limits: JobQueueLimits) {}

  /** Jobs waiting, of every owner. */
  get size (): number {
    return this.#size
  }

  /** Queues `job` for `owner`, or says why not. */
  add (owner: string, job: Job): JobRefusal | undefined {
    const waiting = this.#waiting.get(owner)
    if ((waiting?.length ?? 0) + (this.#running.get(owner) ?? 0) >= this.limits.maxPerOwner) return 'owner_limit'
    if (this.#size >= this.limits.maxQueued) return 'queue_full'
    if (waiting) waiting.push(job)
    else this.#waiting.set(owner, [job])
    this.#size++
    return undefined
  }

  /** The next job, which counts as its owner's running job until {@link done}; its owner goes to the back. */
  take (): { owner: string, job: Job } | undefined {
    // An owner is in the map only while it has a job waiting.
    const [first] = this.#waiting
    if (!first) return undefined
    const [owner, [job, ...rest]] = first
    if (job === undefined) return undefined
    this.#waiting.delete(owner)
    if (rest.length > 0) this.#waiting.set(owner, rest)
    this.#size--
    this.#running.set(owner, (this.#running.get(owner) ?? 0) + 1)
    return { owner, job }
  }

  /** A job {@link take} gave out is over: it no longer counts against its owner. */
  done (owner: string): void {
    const running = (this.#running.get(owner) ?? 0) - 1
    if (running > 0) this.#running.set(owner, running)
    else this.#running.delete(owner)
  }

  /** Every waiting job, taken out of the queue. */
  drain (): Job[] {
    const jobs = [...this.#waiting.values()].flat()
    this.#waiting.clear()
    this.#size = 0
    return jobs
  }
}
