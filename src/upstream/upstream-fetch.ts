import { Readable } from 'node:stream'
import { Agent, EnvHttpProxyAgent, request } from 'undici'
import { ToolError } from '../errors.js'
import { LinkedAbortController } from '../linked-abort.js'

/**
 * What the router adds to the fetch options the `openai` SDK hands its fetch: the call's signal
 * (see {@link upstreamFetch}).
 */
export interface CallSignalOption {
  callSignal?: AbortSignal
}

/**
 * Connections to the upstreams. undici's own limits (5 minutes for headers, 5 minutes between body
 * chunks) are off: each call has the router's deadline (UPSTREAM_TIMEOUT_MS, `timeout_ms`).
 * With NODE_USE_ENV_PROXY=1 they go through HTTP_PROXY / HTTPS_PROXY except for NO_PROXY hosts,
 * as Node's own fetch would: the variable is Node's, read where Node reads it.
 */
const connectionOptions = { headersTimeout: 0, bodyTimeout: 0 }
const upstreams = process.env.NODE_USE_ENV_PROXY === '1' ? new EnvHttpProxyAgent(connectionOptions) : new Agent(connectionOptions)

/** Statuses whose responses have no body, which a web Response refuses to be built with. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304])

/**
 * The connection to the upstream broke while its body was arriving, after its headers: as
 * transient as a reset before them.
 */
export class UpstreamBodyBroken extends Error {
  override name = 'UpstreamBodyBroken'
}

/**
 * What an answer's body must be: JSON when successful (the SDK parses it), unless it is an SSE
 * stream (a streamed call); anything for an error status, whose body the SDK only quotes.
 */
type ExpectedBody = 'json' | 'event-stream' | 'any'

/**
 * The `openai` SDK's fetch: undici's request API, answered as a web Response.
 *
 * Node's own fetch registers every Request and Response with a FinalizationRegistry, and the SDK
 * composes the caller's signal with `AbortSignal.any` or tracks it with weak references. V8 keeps
 * all of these, and whatever they reach, through young-generation GCs until the next full one:
 * per upstream call, the whole call. Here nothing is weak: the call's signal comes in `callSignal`
 * (the SDK is given none), and the listeners linking it to the request go when the body closes.
 */
export async function upstreamFetch (
  input: string | URL | Request,
  init: RequestInit & CallSignalOption = {},
  maxBodyBytes = Number.POSITIVE_INFINITY
): Promise<Response> {
  if (input instanceof Request) {
    const body = input.body ? new Uint8Array(await input.arrayBuffer()) : undefined
    const fromRequest = { method: input.method, headers: input.headers, body, signal: input.signal }
    return upstreamFetch(input.url, { ...fromRequest, ...init }, maxBodyBytes)
  }
  const method = init.method ?? 'GET'
  // The SDK hands over a Headers of its own: read as it is, not copied into another.
  const headers = init.headers instanceof Headers ? init.headers : new Headers(init.headers)
  const { body, contentType } = await requestBody(init.body)
  const sentHeaders = Object.fromEntries(headers)
  if (contentType && !headers.has('content-type')) sentHeaders['content-type'] = contentType
  const stop = new LinkedAbortController([init.signal ?? undefined, init.callSignal])
  let answer
  try {
    answer = await request(input, { method, headers: sentHeaders, body, signal: stop.signal, dispatcher: upstreams })
  } catch (err) {
    stop.unlink()
    throw err
  }
  answer.body.once('close', () => stop.unlink())
  const withoutBody = method === 'HEAD' || NULL_BODY_STATUSES.has(answer.statusCode)
  if (withoutBody) answer.body.resume()
  const expected = expectedBody(answer.statusCode, headerValue(answer.headers, 'content-type'), headerValue(answer.headers, 'content-length'))
  const response = new Response(withoutBody ? null : webStream(answer.body, maxBodyBytes, expected), {
    status: answer.statusCode,
    headers: headerPairs(answer.headers),
  })
  if (!withoutBody && !(expected instanceof ToolError)) {
    nodeBodies.set(response, { body: answer.body, maxBodyBytes, expected })
  }
  return response
}

/**
 * A successful answer's body as text, read as {@link answerChunks} reads it: for a JSON answer,
 * without the web stream and `Response.text()` between undici and `JSON.parse`.
 */
export async function answerText (response: Response): Promise<string> {
  const chunks: Uint8Array[] = []
  for await (const chunk of answerChunks(response)) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * The Node bodies of the answers {@link upstreamFetch} made, for {@link answerChunks}; each read
 * once, one way or the other.
 */
const nodeBodies = new WeakMap<Response, { body: Readable, maxBodyBytes: number, expected: ExpectedBody }>()

/**
 * A successful answer's body as chunks: for an answer {@link upstreamFetch} made, its Node body
 * read directly, with the same bound and the same errors as its web body (which is then never
 * read); for any other, that web body. Breaking off the reading stops the download.
 */
export function answerChunks (response: Response): AsyncIterable<Uint8Array> {
  const node = nodeBodies.get(response)
  if (!node) return response.body ?? Readable.from([])
  nodeBodies.delete(response)
  return boundedChunks(node.body, node.maxBodyBytes, node.expected)
}

/**
 * The body's chunks, at most `maxBodyBytes` of them: past that the download stops and reading
 * fails, which bounds JSON answers and SSE streams alike (a single endless SSE line included). A
 * JSON answer with no byte fails as empty; a connection that breaks as {@link UpstreamBodyBroken}.
 */
async function * boundedChunks (
  body: Readable,
  maxBodyBytes: number,
  expected: ExpectedBody
): AsyncGenerator<Uint8Array> {
  let received = 0
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      received += chunk.length
      if (received > maxBodyBytes) throw tooLarge(maxBodyBytes)
      yield chunk
    }
    if (received === 0 && expected === 'json') throw emptyBody()
  } catch (err) {
    if (err instanceof ToolError) throw err
    throw new UpstreamBodyBroken('the connection broke while the answer was arriving', { cause: err })
  } finally {
    if (!body.readableEnded) {
      body.once('error', () => {})
      body.destroy()
    }
  }
}

/**
 * What the body must be, or the tool error a successful answer the SDK cannot read makes (it would
 * hand the router a string or nothing).
 */
function expectedBody (
  status: number,
  contentType: string | undefined,
  contentLength: string | undefined
): ExpectedBody | ToolError {
  if (status < 200 || status >= 300) return 'any'
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase()
  if (mediaType === 'text/event-stream') return 'event-stream'
  if (!mediaType) return upstreamInvalid('a successful answer without a Content-Type (expected JSON)')
  if (!mediaType.includes('json')) return upstreamInvalid(`a successful answer of type ${mediaType.slice(0, 100)} (expected JSON)`)
  // The SDK does not read a body announced as empty: it must be refused before.
  return contentLength?.trim() === '0' ? emptyBody() : 'json'
}

function emptyBody (): ToolError {
  return upstreamInvalid('a successful answer with an empty body (expected JSON)')
}

function upstreamInvalid (what: string): ToolError {
  return new ToolError('upstream_invalid_response', `The upstream sent ${what}; it may not be OpenAI-compatible, or a proxy between the router and it answered instead.`, { retryable: false })
}

function tooLarge (maxBodyBytes: number): ToolError {
  return new ToolError('upstream_invalid_response', `The upstream's answer exceeded ${maxBodyBytes} bytes (UPSTREAM_MAX_BODY_BYTES) and was not read further. Ask for less (a shorter answer, fewer images or inputs); an operator can raise UPSTREAM_MAX_BODY_BYTES.`, { retryable: false })
}

/**
 * A body undici sends as is (text, bytes); anything else (a form, a blob, a stream) as the bytes a
 * web Request would send, with its content type.
 */
async function requestBody (body: RequestInit['body']): Promise<{ body: string | Uint8Array | undefined, contentType?: string }> {
  if (body === undefined || body === null) return { body: undefined }
  if (typeof body === 'string' || body instanceof Uint8Array) return { body }
  const encoded = new Response(body)
  const contentType = encoded.headers.get('content-type') ?? undefined
  return { body: new Uint8Array(await encoded.arrayBuffer()), ...(contentType && { contentType }) }
}

/**
 * The body as a web stream that reads only when read, and whose cancelling stops the download.
 * Not `Readable.toWeb`: cancelling its stream while data is still arriving throws "Controller is
 * already closed" out of the process. It reads through {@link boundedChunks}, so it is bounded
 * and fails as an answer read directly does; a successful answer that is not JSON or SSE, or
 * is empty, errors the same way: the SDK would hand the router a string or nothing in place of
 * the object it expects.
 */
function webStream (
  body: Readable,
  maxBodyBytes: number,
  expected: ExpectedBody | ToolError
): ReadableStream<Uint8Array> {
  if (expected instanceof ToolError) {
    // Destroyed before it was ever read, undici's body emits an error no one listens to: the
    // reason is the stream's, not this one.
    body.once('error', () => {})
    body.destroy()
    return new ReadableStream({ start (controller) { controller.error(expected) } })
  }
  // Made when first read: a body read through answerChunks never is.
  let chunks: AsyncIterator<Uint8Array> | undefined
  return new ReadableStream<Uint8Array>({
    async pull (controller) {
      chunks ??= boundedChunks(body, maxBodyBytes, expected)
      try {
        const next = await chunks.next()
        if (next.done) controller.close()
        else controller.enqueue(next.value)
      } catch (err) {
        controller.error(err)
      }
    },
    cancel (reason) {
      body.once('error', () => {})
      body.destroy(reason instanceof Error ? reason : undefined)
    },
  }, { highWaterMark: 0 })
}

/** undici's answer headers as the name-value pairs a web Response is built from (a repeated header once per value). */
function headerPairs (headers: Record<string, string | string[] | undefined>): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const item of value) pairs.push([name, item])
    else if (value !== undefined) pairs.push([name, value])
  }
  return pairs
}

/** One header of undici's answer (names come lowercased); a repeated one's values joined as Headers would join them. */
function headerValue (headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}
