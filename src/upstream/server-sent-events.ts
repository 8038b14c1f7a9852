import { StringDecoder } from 'node:string_decoder'
import { APIError } from 'openai'
import { answerChunks } from './upstream-fetch.js'

/**
 * A text/event-stream parser (the WHATWG rules the `openai` SDK's decoder follows): lines end with
 * CR, LF or CRLF, a blank line ends an event, `:` starts a comment, `data` lines join with LF and
 * one space after the colon is dropped. Each event goes to `onEvent` as it completes; `onEvent`
 * returning true stops the parse (later text is ignored).
 */
export class EventStreamParser {
  readonly #onEvent: (event: string | undefined, data: string) => boolean
  #pending = ''
  /** Whether what is kept of the current line ends with a CR, which the next text may make a CRLF. */
  #pendingCarriageReturn = false
  #event: string | undefined
  #data: string | undefined
  #stopped = false

  constructor (onEvent: (event: string | undefined, data: string) => boolean) {
    this.#onEvent = onEvent
  }

  /** Whether `onEvent` asked to stop. */
  get stopped (): boolean {
    return this.#stopped
  }

  push (text: string): void {
    if (this.#stopped) return
    // A piece of a line still arriving is only kept: scanning the whole line again at each piece
    // would make one long line (up to UPSTREAM_MAX_BODY_BYTES) quadratic in its length.
    if (!this.#pendingCarriageReturn && !text.includes('\n') && !text.includes('\r')) {
      this.#pending += text
      return
    }
    const buffer = this.#pending + text
    let start = 0
    const hasCarriageReturn = buffer.includes('\r')
    while (!this.#stopped) {
      const lineFeed = buffer.indexOf('\n', start)
      const carriageReturn = hasCarriageReturn ? buffer.indexOf('\r', start) : -1
      const end = carriageReturn !== -1 && (lineFeed === -1 || carriageReturn < lineFeed) ? carriageReturn : lineFeed
      if (end === -1) break
      // A CR last in the text may be the first half of a CRLF: it waits for what follows.
      if (end === carriageReturn && end === buffer.length - 1) break
      this.#line(buffer.slice(start, end))
      start = end === carriageReturn && buffer.charCodeAt(end + 1) === 10 ? end + 2 : end + 1
    }
    this.#pending = buffer.slice(start)
    this.#pendingCarriageReturn = this.#pending.endsWith('\r')
  }

  /** The end of the stream: a last line without its line break, and an event without its blank line, still count. */
  end (): void {
    if (this.#pending) {
      const last = this.#pendingCarriageReturn ? this.#pending.slice(0, -1) : this.#pending
      this.#pending = ''
      this.#pendingCarriageReturn = false
      this.#line(last)
    }
    if (!this.#stopped) this.#line('')
  }

  #line (line: string): void {
    if (line === '') {
      if (this.#event === undefined && this.#data === undefined) return
      const event = this.#event
      const data = this.#data ?? ''
      this.#event = undefined
      this.#data = undefined
      this.#stopped = this.#onEvent(event, data)
      return
    }
    if (line.charCodeAt(0) === 58) return
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    const value = colon === -1 ? '' : line.slice(line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1)
    if (field === 'data') this.#data = this.#data === undefined ? value : `${this.#data}\n${value}`
    else if (field === 'event') this.#event = value
  }
}

/**
 * Reads a streamed answer's events, handing each one's JSON to `onData`, until `onData` returns a
 * value (which this returns), the stream sends `[DONE]`, or it ends (undefined for both). The SDK's
 * meaning is kept: data that is not JSON is a SyntaxError, an `error` event or data carrying an
 * `error` is the APIError it would throw, and the body is read within the bound `upstreamFetch`
 * set. Reading stops as soon as the answer is known; the rest of the body is not waited for.
 */
export async function readEventStream<T> (
  response: Response,
  onData: (data: Record<string, unknown>) => T | undefined
): Promise<T | undefined> {
  let found: T | undefined
  let failure: unknown
  const parser = new EventStreamParser((event, data) => {
    if (data === '[DONE]') return true
    let parsed: Record<string, unknown>
    try {
      parsed = JSON.parse(data) as Record<string, unknown>
    } catch {
      failure = new SyntaxError('Error reading response: malformed server-sent event JSON.')
      return true
    }
    if (event === 'error' || (parsed && parsed.error)) {
      failure = new APIError(undefined, (event === 'error' ? parsed?.error ?? parsed : parsed.error) as object, undefined, response.headers)
      return true
    }
    found = onData(parsed)
    return found !== undefined
  })
  const decoder = new StringDecoder('utf8')
  const chunks = answerChunks(response)
  for await (const chunk of chunks) {
    parser.push(decoder.write(chunk))
    if (parser.stopped) break
  }
  if (!parser.stopped) {
    parser.push(decoder.end())
    parser.end()
  }
  if (failure !== undefined) throw failure
  return found
}
