import type { FastifyBaseLogger } from 'fastify'
import type { RouterKeys } from '../access/router-keys.js'

export interface ProgressUpdate {
  progress: number
  message?: string
}

export interface ProgressOptions {
  /** Sends one `notifications/progress`; `undefined` when the client gave no progress token. */
  send: ((update: ProgressUpdate) => Promise<void>) | undefined
  /** Text arriving faster than this is gathered into one notification. */
  intervalMs: number
  /** Longest silence while the call runs; a message-less notification fills it. */
  heartbeatMs: number
  /** The router's own keys: streamed text is cleared of them, even of one split across two deltas. */
  keys?: RouterKeys
  log: FastifyBaseLogger
}

/**
 * The progress notifications of one tool call. Streamed text goes out in batches, each
 * notification's `message` being the next piece of the answer; status lines (a background
 * response's state) go out at once; a heartbeat keeps quiet calls alive for clients that reset
 * their request timeout on progress. `progress` rises by one with every notification.
 */
export class CallProgress {
  readonly #send: ProgressOptions['send']
  readonly #intervalMs: number
  readonly #heartbeatMs: number
  readonly #keys: RouterKeys | undefined
  readonly #log: FastifyBaseLogger
  #sequence = 0
  #streamedCharacters = 0
  #pendingText = ''
  #lastTextAt = 0
  #flushTimer: NodeJS.Timeout | undefined
  #heartbeatTimer: NodeJS.Timeout | undefined
  #sending: Promise<void> = Promise.resolve()
  #finished = false

  constructor ({ send, intervalMs, heartbeatMs, keys, log }: ProgressOptions) {
    this.#send = send
    this.#intervalMs = intervalMs
    this.#heartbeatMs = heartbeatMs
    this.#keys = keys
    this.#log = log
    this.#armHeartbeat()
  }

  /** Whether the client asked for progress, and so whether streaming the answer is worth it. */
  get wanted (): boolean {
    return this.#send !== undefined
  }

  /** Characters of answer text handed over for the client so far: what it has seen, or is about to. */
  get streamedCharacters (): number {
    return this.#streamedCharacters
  }

  text (delta: string): void {
    if (!this.wanted || this.#finished || !delta) return
    this.#streamedCharacters += delta.length
    this.#pendingText += delta
    if (this.#flushTimer) return
    const wait = this.#lastTextAt + this.#intervalMs - performance.now()
    if (wait <= 0) this.#flushText()
    else this.#flushTimer = setTimeout(() => this.#flushText(), wait)
  }

  status (message: string): void {
    if (!this.wanted || this.#finished) return
    this.#flushText()
    this.#notify(message)
  }

  /** Sends what text is still held back and stops the timers; resolves once every notification is handed over. */
  async finish (): Promise<void> {
    if (this.#finished) return
    this.#flushText(true)
    this.#finished = true
    clearTimeout(this.#heartbeatTimer)
    await this.#sending
  }

  /**
   * Sends the text gathered so far, keys replaced; unless this is the `last` piece, an end that
   * could be the start of a key waits for the text after it (sending it now would let a key
   * through in two halves, each harmless-looking alone).
   */
  #flushText (last = false): void {
    clearTimeout(this.#flushTimer)
    this.#flushTimer = undefined
    if (!this.#pendingText) return
    const gathered = this.#keys ? this.#keys.redactText(this.#pendingText) : this.#pendingText
    const kept = last || !this.#keys ? 0 : this.#keys.partialKeyLength(gathered)
    const text = gathered.slice(0, gathered.length - kept)
    this.#pendingText = gathered.slice(gathered.length - kept)
    if (!text) return
    this.#lastTextAt = performance.now()
    this.#notify(text)
  }

  #notify (message?: string): void {
    const send = this.#send
    if (!send) return
    const update: ProgressUpdate = { progress: ++this.#sequence, ...(message !== undefined && { message }) }
    // Chained, so notifications leave in order; a client that went away is not the call's failure.
    this.#sending = this.#sending
      .then(() => send(update))
      .catch((err: unknown) => this.#log.debug({ err }, 'progress notification not delivered'))
    this.#armHeartbeat()
  }

  #armHeartbeat (): void {
    if (!this.wanted) return
    clearTimeout(this.#heartbeatTimer)
    this.#heartbeatTimer = setTimeout(() => this.#notify(), this.#heartbeatMs)
  }
}
