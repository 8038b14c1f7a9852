import { Agent, request } from 'undici'
import { PACED_ANSWER } from './paced-answer.js'
import { cpuMs, rssMb } from './servers.js'

/**
 * How a target's streamed answer reads: OpenAI's two SSE formats, or MCP's (progress
 * notifications, then the result).
 */
export type StreamFormat = 'responses' | 'chat_completions' | 'mcp'

/** One streamed call: where it goes and what it sends (`index` numbers it within its run). */
export interface StreamRequest {
  url: string
  headers: (index: number) => Record<string, string>
  body: (index: number) => string
  format: StreamFormat
}

/** What one run of concurrent streams measured. */
export interface StreamsResult {
  streams: number
  /** Streams that ended with the whole answer (MCP: streamed as progress and in the result alike). */
  completed: number
  /** Time from sending the request to the first piece of answer text (ms), over completed streams. */
  firstTextP50: number
  firstTextP99: number
  /** Server CPU time (user + system, /proc) per stream, µs. */
  cpuPerStream: number
  /** Highest RSS of the server while the streams ran, MB (sampled every 100 ms). */
  peakRssMb: number
  /** One failure, quoted, when there were any. */
  failure?: string
}

/** Longest one stream may take: far beyond its 4 s of answer, short enough that a run always ends. */
const STREAM_TIMEOUT_MS = 120_000

/**
 * `count` streams started at once against `target`, each read to its end and its answer checked;
 * CPU and peak RSS of `serverPid` over the run.
 */
export async function concurrentStreams (
  target: StreamRequest,
  count: number,
  serverPid: number
): Promise<StreamsResult> {
  const cpuBefore = await cpuMs(serverPid)
  let peakRssMb = await rssMb(serverPid)
  const sampler = setInterval(() => {
    rssMb(serverPid).then((mb) => { peakRssMb = Math.max(peakRssMb, mb) }, () => {})
  }, 100)
  // A connection of its own for each stream, as each agent would have; closed after the run.
  const clients = new Agent({ connections: null, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 })
  const outcomes = await Promise.all(Array.from({ length: count }, (_, index) =>
    oneStream(target, index, clients).catch((err: unknown) => ({ error: String(err) }))))
  clearInterval(sampler)
  await clients.close()
  const cpuAfter = await cpuMs(serverPid)
  peakRssMb = Math.max(peakRssMb, await rssMb(serverPid))
  const firstTexts = outcomes.flatMap((outcome) => 'firstTextMs' in outcome ? [outcome.firstTextMs] : []).sort((a, b) => a - b)
  const failure = outcomes.find((outcome): outcome is { error: string } => 'error' in outcome)
  return {
    streams: count,
    completed: firstTexts.length,
    firstTextP50: quantile(firstTexts, 0.5),
    firstTextP99: quantile(firstTexts, 0.99),
    cpuPerStream: (cpuAfter - cpuBefore) * 1000 / count,
    peakRssMb,
    ...(failure && { failure: failure.error.slice(0, 300) }),
  }
}

/** One stream, read event by event; its time to first text, or why it did not bring the whole answer. */
async function oneStream (
  { url, headers, body, format }: StreamRequest,
  index: number,
  clients: Agent
): Promise<{ firstTextMs: number }> {
  const started = performance.now()
  const answer = await request(url, { method: 'POST', headers: headers(index), body: body(index), dispatcher: clients, signal: AbortSignal.timeout(STREAM_TIMEOUT_MS) })
  answer.body.setEncoding('utf8')
  if (answer.statusCode !== 200) throw new Error(`${answer.statusCode} ${(await answer.body.text()).slice(0, 200)}`)
  const reader = new AnswerReader(format)
  let pending = ''
  for await (const chunk of answer.body as AsyncIterable<string>) {
    pending += chunk
    let end
    while ((end = pending.indexOf('\n\n')) !== -1) {
      reader.event(pending.slice(0, end), started)
      pending = pending.slice(end + 2)
    }
  }
  return { firstTextMs: reader.checked() }
}

/** What one stream has said so far, event by event. */
class AnswerReader {
  readonly #format: StreamFormat
  #text = ''
  #result: string | undefined
  #ended = false
  #firstTextMs: number | undefined

  constructor (format: StreamFormat) {
    this.#format = format
  }

  event (block: string, started: number): void {
    const data = block.slice(block.indexOf('data: ') + 6)
    if (data === '[DONE]') {
      this.#ended = true
      return
    }
    const piece = this.#piece(JSON.parse(data))
    if (!piece) return
    this.#firstTextMs ??= performance.now() - started
    this.#text += piece
  }

  /** The time to first text of a stream that brought the whole answer; throws naming what is wrong otherwise. */
  checked (): number {
    if (!this.#ended) throw new Error(`the stream ended before its answer did (${this.#text.length} characters)`)
    if (this.#text !== PACED_ANSWER) throw new Error(`streamed text differs from the answer: ${JSON.stringify(this.#text.slice(0, 120))}`)
    if (this.#format === 'mcp' && this.#result !== PACED_ANSWER) throw new Error(`the result differs from the answer: ${JSON.stringify(this.#result?.slice(0, 200))}`)
    return this.#firstTextMs ?? Number.NaN
  }

  #piece (event: Record<string, unknown>): string | undefined {
    switch (this.#format) {
      case 'responses':
        if (event.type === 'response.completed') this.#ended = true
        return event.type === 'response.output_text.delta' ? event.delta as string : undefined
      case 'chat_completions':
        return (event.choices as Array<{ delta?: { content?: string } }>)[0]?.delta?.content
      case 'mcp': {
        if (event.method === 'notifications/progress') return (event.params as { message?: string }).message
        if (event.method !== undefined) return undefined
        const result = event.result as { isError?: boolean, content?: Array<{ text?: string }> } | undefined
        if (!result) throw new Error(`an MCP error: ${JSON.stringify(event).slice(0, 200)}`)
        if (result.isError) throw new Error(`a tool error: ${result.content?.[0]?.text?.slice(0, 200)}`)
        this.#result = result.content?.[0]?.text
        this.#ended = true
        return undefined
      }
    }
  }
}

function quantile (sorted: number[], at: number): number {
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(at * sorted.length))] as number
}
