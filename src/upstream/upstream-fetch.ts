import type { Readable } from 'node:stream'
import { Agent, EnvHttpProxyAgent, request } from 'undici'
import { LinkedAbortController } from '../linked-abort.js'

/** What the router adds to the fetch options the `openai` SDK hands its fetch: the call's signal (see {@link upstreamFetch}). */
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
 * The `openai` SDK's fetch: undici's request API, answered as a web Response.
 *
 * Node's own fetch registers every Request and Response with a FinalizationRegistry, and the SDK
 * composes the caller's signal with `AbortSignal.any` or tracks it with weak references. V8 keeps
 * all of these, and whatever they reach, through young-generation GCs until the next full one:
 * per upstream call, the whole call. Here nothing is weak: the call's signal comes in `callSignal`
 * (the SDK is given none), and the listeners linking it to the request go when the body closes.
 */
export async function upstreamFetch (input: string | URL | Request, init: RequestInit & CallSignalOption = {}): Promise<Response> {
  if (input instanceof Request) {
    const body = input.body ? new Uint8Array(await input.arrayBuffer()) : undefined
    return upstreamFetch(input.url, { method: input.method, headers: input.headers, body, signal: input.signal, ...init })
  }
  const method = init.method ?? 'GET'
  const headers = new Headers(init.headers)
  const body = await requestBody(init.body, headers)
  const stop = new LinkedAbortController([init.signal ?? undefined, init.callSignal])
  let answer
  try {
    answer = await request(input, { method, headers: Object.fromEntries(headers), body, signal: stop.signal, dispatcher: upstreams })
  } catch (err) {
    stop.unlink()
    throw err
  }
  answer.body.once('close', () => stop.unlink())
  const withoutBody = method === 'HEAD' || NULL_BODY_STATUSES.has(answer.statusCode)
  if (withoutBody) answer.body.resume()
  return new Response(withoutBody ? null : webStream(answer.body), {
    status: answer.statusCode,
    headers: responseHeaders(answer.headers),
  })
}

/** A body undici sends as is (text, bytes); anything else (a form, a blob, a stream) as the bytes a web Request would send, with its content type. */
async function requestBody (body: RequestInit['body'], headers: Headers): Promise<string | Uint8Array | undefined> {
  if (body === undefined || body === null) return undefined
  if (typeof body === 'string' || body instanceof Uint8Array) return body
  const encoded = new Response(body)
  const type = encoded.headers.get('content-type')
  if (type && !headers.has('content-type')) headers.set('content-type', type)
  return new Uint8Array(await encoded.arrayBuffer())
}

/**
 * The body as a web stream that reads only when read, and whose cancelling stops the download.
 * Not `Readable.toWeb`: cancelling its stream while data is still arriving throws "Controller is
 * already closed" out of the process.
 */
function webStream (body: Readable): ReadableStream<Uint8Array> {
  const chunks = body[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull (controller) {
      const { value, done } = await chunks.next() as IteratorResult<Buffer>
      if (done) controller.close()
      else controller.enqueue(value)
    },
    cancel (reason) {
      body.destroy(reason instanceof Error ? reason : undefined)
    },
  })
}

function responseHeaders (headers: Record<string, string | string[] | undefined>): Headers {
  const result = new Headers()
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const item of value) result.append(name, item)
    else if (value !== undefined) result.append(name, value)
  }
  return result
}
