/** When a breaker opens and how long it stays open (a provider's `circuitBreaker` in the routing file). */
export interface CircuitBreakerConfig {
  failureThreshold: number
  failureRatio: number
  minimumCalls: number
  windowMs: number
  cooldownMs: number
}

export type CircuitState = 'closed' | 'open' | 'half_open'

/**
 * Stops calling an upstream that keeps failing. Closed, it lets every call through and counts
 * failures; it opens after `failureThreshold` failures in a row, or when at least `failureRatio`
 * of the calls in the last `windowMs` failed (once there were `minimumCalls`). Open, it refuses
 * calls until `cooldownMs` has passed, then lets one probe call through (half-open): its success
 * closes the circuit, its failure opens it again.
 */
export class CircuitBreaker {
  #state: CircuitState = 'closed'
  #consecutiveFailures = 0
  /** Outcomes within the window, oldest first: when each call ended, and whether it failed. */
  #window: Array<{ at: number, failed: boolean }> = []
  #openedAt = 0
  #probing = false
  #lastFailure: string | undefined

  constructor (
    private readonly config: CircuitBreakerConfig,
    private readonly onChange: (state: CircuitState) => void = () => {},
    private readonly now: () => number = Date.now
  ) {}

  get state (): CircuitState {
    return this.#state
  }

  /** The failure that opened the circuit (or the last one). */
  get lastFailure (): string | undefined {
    return this.#lastFailure
  }

  /** When an open circuit lets its probe call through. */
  get retryAt (): number {
    return this.#openedAt + this.config.cooldownMs
  }

  /** Whether a call may go ahead now; a true answer in half-open state makes this call the probe. */
  tryEnter (): boolean {
    if (this.#state === 'open') {
      if (this.now() < this.retryAt) return false
      this.#change('half_open')
    }
    if (this.#state === 'half_open') {
      if (this.#probing) return false
      this.#probing = true
    }
    return true
  }

  succeeded (): void {
    this.#record(false)
    this.#consecutiveFailures = 0
    if (this.#state === 'half_open') {
      this.#probing = false
      this.#window = []
      this.#change('closed')
    }
  }

  failed (reason: string): void {
    this.#record(true)
    this.#lastFailure = reason
    this.#consecutiveFailures++
    if (this.#state === 'half_open' || this.#shouldOpen()) this.#open()
  }

  /** A call that ended without saying anything about the upstream's health (cancelled, refused as invalid). */
  released (): void {
    this.#probing = false
  }

  #shouldOpen (): boolean {
    if (this.#state !== 'closed') return false
    if (this.#consecutiveFailures >= this.config.failureThreshold) return true
    if (this.#window.length < this.config.minimumCalls) return false
    const failures = this.#window.filter((outcome) => outcome.failed).length
    return failures / this.#window.length >= this.config.failureRatio
  }

  #record (failed: boolean): void {
    const now = this.now()
    this.#window.push({ at: now, failed })
    const cutoff = now - this.config.windowMs
    let expired = 0
    while (expired < this.#window.length && (this.#window[expired] as { at: number }).at < cutoff) expired++
    if (expired > 0) this.#window.splice(0, expired)
  }

  #open (): void {
    this.#probing = false
    this.#openedAt = this.now()
    this.#consecutiveFailures = 0
    this.#window = []
    this.#change('open')
  }

  #change (state: CircuitState): void {
    if (state === this.#state && state !== 'open') return
    this.#state = state
    this.onChange(state)
  }
}
