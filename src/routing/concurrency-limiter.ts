/** Why a call got no slot: the queue was full, or its wait was too long. */
export class SlotRefused extends Error {
  override name = 'SlotRefused'

  constructor (readonly reason: 'queue_full' | 'wait_timeout', message: string) {
    super(message)
  }
}

export interface ConcurrencyLimits {
  max: number
  maxQueued: number
  queueTimeoutMs: number
}

interface Waiter {
  grant: () => void
}

/**
 * At most `max` calls at once; up to `maxQueued` more wait, first come first served, for at most
 * `queueTimeoutMs`. A call beyond that is refused at once, so a saturated upstream answers
 * "saturated" quickly instead of collecting a pile of calls that will all time out.
 */
export class ConcurrencyLimiter {
  #active = 0
  readonly #queue: Waiter[] = []

  constructor (readonly limits: ConcurrencyLimits) {}

  get active (): number {
    return this.#active
  }

  get queued (): number {
    return this.#queue.length
  }

  /**
   * Waits for a slot; resolves with the function that frees it. Rejects with {@link SlotRefused},
   * or the signal's reason.
   */
  async acquire (signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted()
    if (this.#active < this.limits.max) {
      this.#active++
      return this.#releaser()
    }
    if (this.#queue.length >= this.limits.maxQueued) {
      throw new SlotRefused('queue_full', `${this.#active} calls are running and ${this.#queue.length} waiting, the most it allows`)
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          settle()
          this.#active++
          resolve(this.#releaser())
        },
      }
      const leave = (error: unknown) => {
        const index = this.#queue.indexOf(waiter)
        if (index !== -1) this.#queue.splice(index, 1)
        settle()
        reject(error)
      }
      const timer = setTimeout(() => leave(new SlotRefused('wait_timeout', `no call slot came free within ${this.limits.queueTimeoutMs} ms (${this.#active} running, ${this.#queue.length} waiting)`)), this.limits.queueTimeoutMs)
      const onAbort = () => leave(signal.reason)
      const settle = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#queue.push(waiter)
    })
  }

  #releaser (): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      this.#active--
      this.#queue.shift()?.grant()
    }
  }
}
