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
  /** When the request arrived (performance.now()). */
  at: number
  /** Streamed answers: when the first event carrying a piece of the answer was written (performance.now()). */
  firstTokenAt?: number
}

/**
 * A scripted answer: a status with a JSON body (streamed as SSE when the request asked for a
 * stream and the status is 200), an explicit SSE event list, or a dropped connection.
 */
export interface ScriptedReply {
  status?: number
  json?: unknown
  headers?: Record<string, string>
  delayMs?: number
  /**
   * Answers only once this settles: a test holds a call at the upstream for as long as it needs,
   * not for a guessed time.
   */
  until?: Promise<unknown>
  drop?: boolean
  /** Raw events: objects are sent as JSON `data:` lines, strings as written (for malformed events). */
  sse?: Array<object | string>
  /** Pause before each SSE event. */
  eventDelayMs?: number
  /** Destroy the connection after this many SSE events. */
  dropAfterEvents?: number
  /**
   * A body written as is, chunk by chunk as the router reads it (what no OpenAI upstream sends),
   * with `status` and `headers`.
   */
  raw?: Iterable<string>
  /** With `raw`: break the connection once it is written instead of ending the answer (a reset after the headers). */
  resetAfterRaw?: boolean
}

export type Route =
  | 'GET /v1/models'
  | 'POST /v1/responses'
  | 'GET /v1/responses/{id}'
  | 'POST /v1/responses/{id}/cancel'
  | 'POST /v1/chat/completions'
  | 'POST /v1/embeddings'
  | 'POST /v1/images/generations'

export interface FakeFunctionCall {
  id: string
  name: string
  arguments: string
}

// A 1x1 PNG, so image answers carry real image bytes.
export const TINY_PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='

/**
 * A local OpenAI-compatible server on 127.0.0.1 speaking the real wire format: models, Responses
 * (JSON and SSE, background responses with retrieve and cancel), Chat Completions (JSON and SSE
 * chunks), embeddings (base64 or floats) and image generation, with OpenAI-style errors and headers.
 * By default it answers `echo: <last user text>`; `script()` queues other answers.
 */
export class FakeOpenAI {
  readonly requests: RecordedRequest[] = []
  models = ['gpt-4.1-mini', 'gpt-4.1', 'text-embedding-3-small']
  /** Status checks a background response takes before it completes. */
  backgroundPolls = 2
  /** Characters per streamed text delta. */
  chunkSize = 4
  /**
   * Routes this server does not have, answered as a compatible server without that API answers
   * (vLLM's FastAPI: 404 `{"detail": "Not Found"}`), scripts or not: e.g. no Responses API.
   */
  readonly missingRoutes = new Set<Route>()
  /**
   * Requests for a model-running route that name no model (the router's readiness probe of chat's
   * API): refused with 400 as OpenAI refuses them, kept here rather than in `requests`, and never
   * given a scripted answer meant for a real call.
   */
  readonly modelless: RecordedRequest[] = []
  readonly #scripts = new Map<Route, Array<ScriptedReply | ((request: RecordedRequest) => ScriptedReply)>>()
  readonly #stored = new Map<string, { response: Record<string, any>, pollsLeft: number }>()
  readonly #server: Server
  #counter = 0
  readonly #record: boolean

  private constructor (record: boolean) {
    this.#record = record
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(() => res.destroy())
    })
  }

  /** `record: false` keeps no requests (`received` stays empty): for load that would only fill memory. */
  static async start ({ record = true }: { record?: boolean } = {}): Promise<FakeOpenAI> {
    const fake = new FakeOpenAI(record)
    fake.#server.listen(0, '127.0.0.1')
    await once(fake.#server, 'listening')
    return fake
  }

  get baseURL (): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`
  }

  /**
   * Queues answers for a route, used once each in order, before the default answer resumes. A
   * function answers from the request itself (a hostile upstream echoing its headers).
   */
  script (route: Route, ...replies: Array<ScriptedReply | ((request: RecordedRequest) => ScriptedReply)>): void {
    this.#scripts.set(route, [...(this.#scripts.get(route) ?? []), ...replies])
  }

  /** Requests to one route, in order. */
  received (route: Route): RecordedRequest[] {
    return this.requests.filter((request) => routeOf(request.method, request.path) === route)
  }

  reset (): void {
    this.requests.length = 0
    this.#scripts.clear()
    this.#stored.clear()
    this.missingRoutes.clear()
    this.modelless.length = 0
    this.backgroundPolls = 2
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
    const recorded: RecordedRequest = { method: req.method ?? '', path, headers: req.headers, body: text ? JSON.parse(text) : undefined, closedEarly: false, at: performance.now() }
    if (this.#record) this.requests.push(recorded)
    const closed = new AbortController()
    res.once('close', () => {
      if (!res.writableFinished) recorded.closedEarly = true
      closed.abort()
    })

    const route = routeOf(recorded.method, path)
    if (route && this.missingRoutes.has(route)) return this.#send(res, 404, { detail: 'Not Found' })
    if ((route === 'POST /v1/responses' || route === 'POST /v1/chat/completions') && recorded.body?.model === undefined) {
      if (this.#record) this.requests.splice(this.requests.indexOf(recorded), 1)
      this.modelless.push(recorded)
      return this.#send(res, 400, errorBody('Missing required parameter: \'model\'.', 'invalid_request_error', 'missing_required_parameter'))
    }
    const next = route && this.#scripts.get(route)?.shift()
    const scripted = typeof next === 'function' ? next(recorded) : next
    // Waits end early when the client goes away, so no timer outlives the test.
    const pause = (ms: number) => sleep(ms, undefined, { signal: closed.signal }).catch(() => {})
    if (scripted && scripted.delayMs) await pause(scripted.delayMs)
    if (scripted && scripted.until) await Promise.race([scripted.until, new Promise((resolve) => closed.signal.addEventListener('abort', resolve, { once: true }))])
    if (res.destroyed) return
    if (scripted && scripted.drop) {
      req.socket.destroy()
      return
    }
    const reply = scripted || this.#defaultReply(route, recorded)
    const status = reply.status ?? 200
    if (reply.raw) return this.#sendRaw(req, res, status, reply.raw, reply)
    const streamsJson = recorded.body?.stream === true && status === 200 && reply.json
    const streamed = reply.sse ?? (streamsJson ? this.#eventsFor(route, reply.json) : undefined)
    if (!streamed) return this.#send(res, status, reply.json, reply.headers)

    res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': `req_${++this.#counter}`, ...reply.headers })
    for (const [index, event] of streamed.entries()) {
      if (reply.dropAfterEvents !== undefined && index >= reply.dropAfterEvents) {
        // Let what was written reach the client first: destroy() discards unsent data.
        await new Promise((resolve) => res.write('', resolve))
        req.socket.destroy()
        return
      }
      if (reply.eventDelayMs) await pause(reply.eventDelayMs)
      if (res.destroyed) return
      const frame = typeof event === 'string' ? event : sseFrame(route, event)
      if (recorded.firstTokenAt === undefined && frame.includes('"delta"')) recorded.firstTokenAt = performance.now()
      res.write(frame)
    }
    if (route === 'POST /v1/chat/completions' && !reply.sse) res.write('data: [DONE]\n\n')
    res.end()
  }

  #defaultReply (route: Route | undefined, request: RecordedRequest): ScriptedReply {
    const { body } = request
    switch (route) {
      case 'GET /v1/models':
        return { json: { object: 'list', data: this.models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'openai' })) } }
      case 'POST /v1/responses': {
        const response = this.responseBody(body.model, `echo: ${lastUserText(body.input)}`)
        if (!body.background) return { json: response }
        const queued = { ...response, status: 'queued', output: [], usage: null, background: true }
        this.#stored.set(response.id, { response, pollsLeft: this.backgroundPolls })
        return { json: queued }
      }
      case 'GET /v1/responses/{id}':
      case 'POST /v1/responses/{id}/cancel': {
        const id = request.path.split('/')[3] ?? ''
        const stored = this.#stored.get(id)
        if (!stored) return { status: 404, json: errorBody(`Response with id '${id}' not found.`, 'invalid_request_error') }
        if (route === 'POST /v1/responses/{id}/cancel') {
          if (stored.pollsLeft > 0) stored.response = { ...stored.response, status: 'cancelled', output: [], usage: null }
          stored.pollsLeft = 0
          return { json: stored.response }
        }
        if (stored.pollsLeft > 0) {
          stored.pollsLeft--
          return { json: { ...stored.response, status: 'in_progress', output: [], usage: null } }
        }
        return { json: stored.response }
      }
      case 'POST /v1/chat/completions':
        return { json: this.chatCompletionBody(body.model, `echo: ${lastUserText(body.messages)}`) }
      case 'POST /v1/embeddings':
        return { json: embeddingsBody(body) }
      case 'POST /v1/images/generations':
        return { json: imagesBody(body) }
      default:
        return { status: 404, json: errorBody(`Unknown request URL: ${request.method} ${request.path}.`, 'invalid_request_error', 'unknown_url') }
    }
  }

  #send (res: ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_${++this.#counter}`, ...headers })
    res.end(json === undefined ? '' : JSON.stringify(json))
  }

  async #sendRaw (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    chunks: Iterable<string>,
    { headers = {}, resetAfterRaw }: ScriptedReply
  ): Promise<void> {
    res.writeHead(status, { 'x-request-id': `req_${++this.#counter}`, ...headers })
    for (const chunk of chunks) {
      if (res.destroyed) return
      if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')])
    }
    if (!resetAfterRaw) {
      res.end()
      return
    }
    await new Promise((resolve) => res.write('', resolve))
    req.socket.destroy()
  }

  #eventsFor (route: Route | undefined, body: any): object[] {
    return route === 'POST /v1/chat/completions' ? this.chatCompletionChunks(body) : this.responseEvents(body)
  }

  /** A Responses API object as OpenAI sends it. */
  responseBody (model: string, text: string, overrides: Record<string, unknown> = {}) {
    const id = ++this.#counter
    return {
      id: `resp_${id}`,
      object: 'response',
      created_at: 1_700_000_000,
      status: 'completed',
      background: false,
      error: null,
      incomplete_details: null,
      model,
      output: [{
        type: 'message',
        id: `msg_${id}`,
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text, annotations: [] }],
      }] as object[],
      parallel_tool_calls: true,
      tool_choice: 'auto',
      tools: [],
      usage: {
        input_tokens: 11,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 7,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 18,
      },
      ...overrides,
    }
  }

  /** A Responses API object whose output is function calls. */
  functionCallResponse (model: string, calls: FakeFunctionCall[]) {
    return this.responseBody(model, '', {
      output: calls.map((call) => ({ type: 'function_call', id: `fc_${call.id}`, call_id: call.id, name: call.name, arguments: call.arguments, status: 'completed' })),
    })
  }

  /** A Chat Completions object as OpenAI sends it. */
  chatCompletionBody (model: string, text: string | null, finishReason = 'stop', toolCalls: FakeFunctionCall[] = []) {
    return {
      id: `chatcmpl-${++this.#counter}`,
      object: 'chat.completion',
      created: 1_700_000_000,
      model,
      choices: [{
        index: 0,
        message: {
          role: 'assistant',
          content: text,
          refusal: null,
          ...(toolCalls.length && { tool_calls: toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })) }),
        },
        logprobs: null,
        finish_reason: toolCalls.length ? 'tool_calls' : finishReason,
      }],
      usage: { prompt_tokens: 13, completion_tokens: 5, total_tokens: 18 },
    }
  }

  /** The SSE events OpenAI sends while streaming `response`, ending with its terminal event. */
  responseEvents (response: any): object[] {
    const events: object[] = []
    let sequence = 0
    const emit = (type: string, fields: object) => events.push({ type, sequence_number: sequence++, ...fields })
    const inProgress = { ...response, status: 'in_progress', output: [], usage: null }
    emit('response.created', { response: inProgress })
    emit('response.in_progress', { response: inProgress })
    for (const [outputIndex, item] of (response.output as any[]).entries()) {
      if (item.type === 'message') {
        emit('response.output_item.added', { output_index: outputIndex, item: { ...item, status: 'in_progress', content: [] } })
        for (const [contentIndex, part] of (item.content as any[]).entries()) {
          const where = { item_id: item.id, output_index: outputIndex, content_index: contentIndex }
          emit('response.content_part.added', { ...where, part: { type: 'output_text', text: '', annotations: [] } })
          for (const delta of this.#pieces(part.text)) emit('response.output_text.delta', { ...where, delta, logprobs: [] })
          emit('response.output_text.done', { ...where, text: part.text, logprobs: [] })
          emit('response.content_part.done', { ...where, part })
        }
      } else if (item.type === 'function_call') {
        emit('response.output_item.added', { output_index: outputIndex, item: { ...item, arguments: '', status: 'in_progress' } })
        for (const delta of this.#pieces(item.arguments)) emit('response.function_call_arguments.delta', { item_id: item.id, output_index: outputIndex, delta })
        emit('response.function_call_arguments.done', { item_id: item.id, output_index: outputIndex, arguments: item.arguments })
      }
      emit('response.output_item.done', { output_index: outputIndex, item })
    }
    const terminal = response.status === 'incomplete' ? 'response.incomplete' : response.status === 'failed' ? 'response.failed' : 'response.completed'
    emit(terminal, { response })
    return events
  }

  /** The chunks OpenAI sends while streaming `completion`, usage last (`stream_options.include_usage`). */
  chatCompletionChunks (completion: any): object[] {
    const base = { id: completion.id, object: 'chat.completion.chunk', created: completion.created, model: completion.model, system_fingerprint: 'fp_fake' }
    const choice = completion.choices[0]
    const chunk = (delta: object, finishReason: string | null = null) => ({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    })
    const chunks: object[] = [chunk({ role: 'assistant', content: '', refusal: null })]
    for (const piece of this.#pieces(choice.message.content ?? '')) chunks.push(chunk({ content: piece }))
    for (const [index, call] of (choice.message.tool_calls ?? []).entries()) {
      chunks.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }))
      for (const piece of this.#pieces(call.function.arguments)) {
        chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }))
      }
    }
    chunks.push(chunk({}, choice.finish_reason))
    chunks.push({ ...base, choices: [], usage: completion.usage })
    return chunks
  }

  #pieces (text: string): string[] {
    const pieces: string[] = []
    for (let start = 0; start < text.length; start += this.chunkSize) {
      pieces.push(text.slice(start, start + this.chunkSize))
    }
    return pieces
  }
}

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
export function errorBody (message: string, type: string, code: string | null = null) {
  return { error: { message, type, param: null, code } }
}

/** The vector the fake gives a text: deterministic, so tests can compare. */
export function fakeEmbedding (text: string, dimensions: number): number[] {
  return Array.from({ length: dimensions }, (_, index) => Math.fround(Math.sin(text.length + index)))
}

interface EmbeddingsRequest { input: string | string[], model: string, dimensions?: number, encoding_format?: string }

function embeddingsBody (body: EmbeddingsRequest) {
  const inputs = Array.isArray(body.input) ? body.input : [body.input]
  const dimensions = body.dimensions ?? 1536
  return {
    object: 'list',
    model: body.model,
    data: inputs.map((text, index) => {
      const vector = fakeEmbedding(text, dimensions)
      const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector
      return { object: 'embedding', index, embedding }
    }),
    usage: { prompt_tokens: inputs.length * 3, total_tokens: inputs.length * 3 },
  }
}

interface ImagesRequest { model: string, prompt: string, n?: number, response_format?: string, output_format?: string }

function imagesBody (body: ImagesRequest) {
  const gptImage = body.model.startsWith('gpt-image')
  const base64 = gptImage || body.response_format === 'b64_json'
  return {
    created: 1_700_000_000,
    data: Array.from({ length: body.n ?? 1 }, (_, index) => base64
      ? { b64_json: TINY_PNG_BASE64, ...(!gptImage && { revised_prompt: `A picture of ${body.prompt}` }) }
      : { url: `https://images.example/${index}.png`, revised_prompt: `A picture of ${body.prompt}` }),
    ...(gptImage && {
      output_format: body.output_format ?? 'png',
      usage: {
        input_tokens: 10,
        output_tokens: 4160,
        total_tokens: 4170,
        input_tokens_details: { text_tokens: 10, image_tokens: 0 },
      },
    }),
  }
}

function routeOf (method: string, path: string): Route | undefined {
  const template = path.replace(/^\/v1\/responses\/[^/]+/, '/v1/responses/{id}')
  const route = `${method} ${template}`
  const routes: Route[] = ['GET /v1/models', 'POST /v1/responses', 'GET /v1/responses/{id}', 'POST /v1/responses/{id}/cancel', 'POST /v1/chat/completions', 'POST /v1/embeddings', 'POST /v1/images/generations']
  return routes.find((known) => known === route)
}

// Responses streams name each event; Chat Completions streams send bare data lines.
function sseFrame (route: Route | undefined, event: object): string {
  const type = (event as { type?: unknown }).type
  const name = route !== 'POST /v1/chat/completions' && typeof type === 'string' ? `event: ${type}\n` : ''
  return `${name}data: ${JSON.stringify(event)}\n\n`
}

// The answer to a turn that ends with function results names them; otherwise the last user text.
interface InputItem { role?: string, type?: string, content?: unknown, output?: string }

function lastUserText (messages: InputItem[] | undefined): string {
  const final = messages?.at(-1)
  if (final?.type === 'function_call_output') return `tool result ${final.output}`
  if (final?.role === 'tool') return `tool result ${final.content as string}`
  const last = [...(messages ?? [])].reverse().find((message) => message.role === 'user')
  if (!last) return ''
  if (typeof last.content === 'string') return last.content
  return (last.content as Array<{ text?: string }>).map((part) => part.text ?? '').join('')
}
