/**
 * The time an upstream call has, computed once: the client's `timeout_ms`, never above
 * UPSTREAM_TIMEOUT_MS. Its clock starts with the call's first attempt (the router's own work
 * before it is not the upstream's time); each target then has what is left of it, narrowed by its
 * provider's own timeout.
 */
export class Deadline {
  #startedAt: number | undefined

  constructor (readonly limitMs: number, private readonly now: () => number = () => performance.now()) {}

  /** A call's deadline: `requestedMs` (a `timeout_ms` argument) when given, capped at `maxMs` (UPSTREAM_TIMEOUT_MS). */
  static forCall (requestedMs: number | undefined, maxMs: number, now?: () => number): Deadline {
    return new Deadline(Math.min(requestedMs ?? maxMs, maxMs), now)
  }

  /** Milliseconds left; zero or less once it has passed. */
  remainingMs (): number {
    return this.limitMs - (this.#startedAt === undefined ? 0 : this.now() - this.#startedAt)
  }

  get passed (): boolean {
    return this.remainingMs() <= 0
  }

  /**
   * The deadline of one target, starting now: what is left of this one (in whole milliseconds, at
   * least one), and no more than `maxMs` (its provider's timeout). Starts this one's clock.
   */
  narrowed (maxMs: number): Deadline {
    this.#startedAt ??= this.now()
    const narrowed = new Deadline(Math.min(Math.max(1, Math.ceil(this.remainingMs())), maxMs), this.now)
    narrowed.#startedAt = this.now()
    return narrowed
  }
}
