import { Readable } from 'node:stream'
import type { JSONRPCMessage } from '@modelcontextprotocol/server'
import type { FastifyReply } from 'fastify'

/** The headers the SDK's transports give an SSE answer (either era). */
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' }

/**
 * The SSE answer to one POSTed request, as a Node stream Fastify sends: the messages the router
 * sends about the request while it runs (progress, log messages) written to it directly, as the
 * SDK's transports frame them, and the SDK's own answer (the result) after them.
 *
 * The SDK's transports check every outgoing message against the protocol's Zod schemas to tell a
 * response from the rest, and write through a web ReadableStream the route then pipes: for a
 * streamed `chat`, most of the router's CPU per answer (docs/performance.md). Every message
 * written here is one the router classified itself, so they take neither path; the result still
 * does, once. The framing is SDK 2.4.0's; test/mcp/sse-answer.test.ts pins that version.
 */
export class SseAnswer {
  readonly #reply: FastifyReply
  /** What Fastify sends, pushed to as messages come (a plain Readable: no transform in between). */
  readonly #body = new Readable({ read () {} })
  readonly #beginsAtFirstMessage: boolean
  #begun = false

  /** `beginsAtFirstMessage`: for an exchange whose SDK answers only at its end (2026-07-28). */
  constructor (reply: FastifyReply, { beginsAtFirstMessage = false } = {}) {
    this.#reply = reply
    this.#beginsAtFirstMessage = beginsAtFirstMessage
    // The client going away ends the answer: what is still written after is dropped.
    reply.raw.once('close', () => this.#body.destroy())
  }

  /** Whether the answer's headers are on their way (its stream handed to Fastify). */
  get begun (): boolean {
    return this.#begun
  }

  /** One message, framed as the SDK frames it; before the answer begins, held until it does. */
  write (message: JSONRPCMessage): void {
    if (this.#body.destroyed) return
    if (this.#beginsAtFirstMessage && !this.#begun) this.#start(200, SSE_HEADERS)
    this.#body.push(`event: message\ndata: ${JSON.stringify(message)}\n\n`)
  }

  /**
   * Ends the answer with the SDK's: its SSE stream relayed after what was written here (its
   * status and headers too, when the answer had not begun), or its JSON body as the last event.
   */
  async finish (response: Response): Promise<void> {
    if (!this.#begun) this.#start(response.status, Object.fromEntries(response.headers))
    if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
      const result = await response.text()
      if (!this.#body.destroyed) this.#body.push(`event: message\ndata: ${result}\n\n`)
      this.#end()
      return
    }
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    this.#body.once('close', () => { reader.cancel().catch(() => {}) })
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        if (!this.#body.destroyed) this.#body.push(value)
      }
    } catch {
      // The SDK's stream was cancelled (the client went away): nothing more to send.
    }
    this.#end()
  }

  #end (): void {
    if (!this.#body.destroyed) this.#body.push(null)
  }

  #start (status: number, headers: Record<string, string>): void {
    this.#begun = true
    this.#reply.code(status).headers(headers)
    this.#reply.send(this.#body)
    flushHeadersSoon(this.#reply)
  }
}

/**
 * Sends an SSE answer's headers on the next turn. Node sends headers with the first body chunk,
 * which on an SSE stream may be minutes away (a GET stream, or a call still waiting for the
 * model): clients wait on the headers. Not at once: a quick answer (echo, a cached one) then
 * leaves in the same write as its headers, one write per exchange fewer (docs/performance.md).
 */
export function flushHeadersSoon ({ raw }: FastifyReply): void {
  setImmediate(() => { if (!raw.headersSent && !raw.destroyed) raw.flushHeaders() })
}
