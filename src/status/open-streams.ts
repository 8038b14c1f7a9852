import type { ServerResponse } from 'node:http'

/** The SSE responses open now (2025 sessions' GET streams, streamed calls, 2026-07-28 subscriptions). */
export class OpenStreams {
  #open = 0

  get size (): number {
    return this.#open
  }

  /** Counts `response` until its connection closes or it ends. */
  opened (response: ServerResponse): void {
    this.#open++
    response.once('close', () => { this.#open-- })
  }
}
