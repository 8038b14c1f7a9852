import { setTimeout as sleep } from 'node:timers/promises'
import { LinkedAbortController } from '../linked-abort.js'

/** Tool calls running now; on shutdown, waits for them up to the grace period, then stops the rest. */
export class InFlightCalls {
  readonly #running = new Set<LinkedAbortController>()
  #draining = false
  #onIdle: (() => void) | undefined

  get draining (): boolean {
    return this.#draining
  }

  get size (): number {
    return this.#running.size
  }

  start (clientSignal: AbortSignal, connection?: AbortSignal) {
    const controller = new LinkedAbortController([clientSignal, connection])
    this.#running.add(controller)
    return {
      signal: controller.signal,
      end: () => {
        controller.unlink()
        this.#running.delete(controller)
        if (this.#running.size === 0) this.#onIdle?.()
      },
    }
  }

  /** Marks the router as draining, waits up to `graceMs` for running calls, and aborts those still running. */
  async drain (graceMs: number): Promise<{ finished: number, aborted: number }> {
    this.#draining = true
    const before = this.#running.size
    if (before > 0) {
      const idle = new Promise<void>((resolve) => { this.#onIdle = resolve })
      const grace = new AbortController()
      await Promise.race([idle, sleep(graceMs, undefined, { signal: grace.signal }).catch(() => {})])
      grace.abort()
    }
    const aborted = this.#running.size
    const reason = new Error('the router is shutting down; send the call again')
    for (const controller of this.#running) controller.abort(reason)
    return { finished: before - aborted, aborted }
  }
}
