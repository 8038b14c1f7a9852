import { once } from 'node:events'
import { type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** What the fake upstream received, so tests can check what the router actually sent. */
export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: any
  /** Set when the client closed the connection before the answer was sent. */
  closedEarly: boolean
}

/** A scripted answer: a status with a JSON body, after an optional delay; or a dropped connection. */
export interface ScriptedReply {
  status?: number
  json?: unknown
  headers?: Record<string, string>
  delayMs?: number
  drop?: boolean
}

type Route = 'GET /v1/models' | 'POST /v1/responses' | 'POST /v1/chat/completions'

/**
 * A local OpenAI-compatible server on 127.0.0.1 speaking the real wire format of `/v1/models`,
 * `/v1/responses` and `/v1/chat/completions`, with OpenAI-style error bodies and headers.
 * By default it answers `echo: <last user text>`; `script()` queues other answers.
 */
export class FakeOpenAI {
  readonly requests: RecordedRequest[] = []
  models = ['gpt-4.1-mini', 'gpt-4.1', 'text-embedding-3-small']
  readonly #scripts = new Map<Route, ScriptedReply[]>()
  readonly #server: Server
  #counter = 0

  private constructor () {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(() => res.destroy())
    })
  }

  static async start (): Promise<FakeOpenAI> {
    const fake = new FakeOpenAI()
    fake.#server.listen(0, '127.0.0.1')
    await once(fake.#server, 'listening')
    return fake
  }

  get baseURL (): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`
  }

  /** Queues answers for a route, used once each in order, before the default answer resumes. */
  script (route: Route, ...replies: ScriptedReply[]): void {
    this.#scripts.set(route, [...(this.#scripts.get(route) ?? []), ...replies])
  }

  /** Requests to one route, in order. */
  received (route: Route): RecordedRequest[] {
    const [method, path] = route.split(' ')
    return this.requests.filter((request) => request.method === method && request.path === path)
  }

  reset (): void {
    this.requests.length = 0
    this.#scripts.clear()
  }

  async close (): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  async #handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    const recorded: RecordedRequest = { method: req.method ?? '', path, headers: req.headers, body: text ? JSON.parse(text) : undefined, closedEarly: false }
    this.requests.push(recorded)
    const closed = new AbortController()
    res.once('close', () => {
      if (!res.writableFinished) recorded.closedEarly = true
      closed.abort()
    })

    const route = `${recorded.method} ${path}` as Route
    const scripted = this.#scripts.get(route)?.shift()
    // A delay ends early when the client goes away, so no timer outlives the test.
    if (scripted?.delayMs) await sleep(scripted.delayMs, undefined, { signal: closed.signal }).catch(() => {})
    if (res.destroyed) return
    if (scripted?.drop) {
      req.socket.destroy()
      return
    }
    if (scripted) return this.#send(res, scripted.status ?? 200, scripted.json, scripted.headers)

    switch (route) {
      case 'GET /v1/models':
        return this.#send(res, 200, { object: 'list', data: this.models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'openai' })) })
      case 'POST /v1/responses':
        return this.#send(res, 200, this.responseBody(recorded.body.model, `echo: ${lastUserText(recorded.body.input)}`))
      case 'POST /v1/chat/completions':
        return this.#send(res, 200, this.chatCompletionBody(recorded.body.model, `echo: ${lastUserText(recorded.body.messages)}`))
      default:
        return this.#send(res, 404, errorBody(`Unknown request URL: ${recorded.method} ${path}.`, 'invalid_request_error', 'unknown_url'))
    }
  }

  #send (res: ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_${++this.#counter}`, ...headers })
    res.end(json === undefined ? '' : JSON.stringify(json))
  }

  /** A Responses API object as OpenAI sends it. */
  responseBody (model: string, text: string, overrides: Record<string, unknown> = {}) {
    const id = ++this.#counter
    return {
      id: `resp_${id}`,
      object: 'response',
      created_at: 1_700_000_000,
      status: 'completed',
      error: null,
      incomplete_details: null,
      model,
      output: [{
        type: 'message',
        id: `msg_${id}`,
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text, annotations: [] }],
      }],
      parallel_tool_calls: true,
      tool_choice: 'auto',
      tools: [],
      usage: { input_tokens: 11, input_tokens_details: { cached_tokens: 0 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 18 },
      ...overrides,
    }
  }

  /** A Chat Completions object as OpenAI sends it. */
  chatCompletionBody (model: string, text: string, finishReason = 'stop') {
    return {
      id: `chatcmpl-${++this.#counter}`,
      object: 'chat.completion',
      created: 1_700_000_000,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: finishReason }],
      usage: { prompt_tokens: 13, completion_tokens: 5, total_tokens: 18 },
    }
  }
}

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
export function errorBody (message: string, type: string, code: string | null = null) {
  return { error: { message, type, param: null, code } }
}

function lastUserText (messages: Array<{ role: string, content: unknown }> | undefined): string {
  const last = [...(messages ?? [])].reverse().find((message) => message.role === 'user')
  if (!last) return ''
  if (typeof last.content === 'string') return last.content
  return (last.content as Array<{ text?: string }>).map((part) => part.text ?? '').join('')
}
