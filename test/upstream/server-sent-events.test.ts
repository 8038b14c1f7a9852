import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import OpenAI, { APIError } from 'openai'
import { Stream } from 'openai/streaming'
import { EventStreamParser, readEventStream } from '../../src/upstream/server-sent-events.js'

/** Every event `chunks` make, as [event, data]. */
function parse (chunks: string[]): Array<[string | undefined, string]> {
  const events: Array<[string | undefined, string]> = []
  const parser = new EventStreamParser((event, data) => {
    events.push([event, data])
    return false
  })
  for (const chunk of chunks) parser.push(chunk)
  parser.end()
  return events
}

/** A streamed answer whose body arrives in `chunks`. */
function streamed (chunks: string[]): Response {
  const encoder = new TextEncoder()
  return new Response(new ReadableStream({
    start (controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk))
      controller.close()
    },
  }), { headers: { 'content-type': 'text/event-stream', 'x-request-id': 'req_sse' } })
}

/** The data of every event the router reads from `chunks`, and what it threw. */
async function routerReads (chunks: string[]): Promise<{ data: unknown[], error?: unknown }> {
  const data: unknown[] = []
  try {
    await readEventStream(streamed(chunks), (event) => { data.push(event) })
    return { data }
  } catch (error) {
    return { data, error }
  }
}

/** A client whose stream does not log what it cannot parse. */
const quietClient = new OpenAI({ apiKey: 'sk-unused', logLevel: 'off' })

/** The same, as the `openai` SDK's own stream reads it. */
async function sdkReads (chunks: string[]): Promise<{ data: unknown[], error?: unknown }> {
  const data: unknown[] = []
  try {
    const stream = Stream.fromSSEResponse(streamed(chunks), new AbortController(), quietClient)
    for await (const event of stream) data.push(event)
    return { data }
  } catch (error) {
    return { data, error }
  }
}

/** `text` cut at every position into two chunks, and into single characters. */
function splits (text: string): string[][] {
  const inTwo = Array.from({ length: text.length - 1 }, (_, at) => [text.slice(0, at + 1), text.slice(at + 1)])
  return [[text], [...text], ...inTwo]
}

describe('EventStreamParser', () => {
  const wire = 'event: response.created\ndata: {"a":1}\n\n: a comment\r\ndata:{"b":2}\r\ndata:  two\r\n\r\nevent: x\rdata: 3\r\r'
  const events: Array<[string | undefined, string]> = [['response.created', '{"a":1}'], [undefined, '{"b":2}\n two'], ['x', '3']]

  test('LF, CRLF and CR line ends, comments, joined data lines and one dropped space, however the text is cut', () => {
    for (const chunks of splits(wire)) assert.deepEqual(parse(chunks), events, JSON.stringify(chunks))
  })

  test('a line arriving in many pieces without line breaks, and a CR ending a piece before one of them', () => {
    const long = 'x'.repeat(5000)
    const pieces = ['data: ', ...long.match(/.{1,7}/g) ?? [], '\r', '\r', 'event', ': y\r', 'data: 2', '\r\r']
    assert.deepEqual(parse(pieces), [[undefined, long], ['y', '2']])
    assert.deepEqual(parse([...'data: 1\rdata: 2\r\r']), [[undefined, '1\n2']])
    // A CR ending a piece ends its line once the next piece shows it is no CRLF, not at the next line break.
    const seen: string[] = []
    const parser = new EventStreamParser((_, data) => seen.push(data) < 0)
    for (const piece of ['data: 1\r', '\r', 'data']) parser.push(piece)
    assert.deepEqual(seen, ['1'])
  })

  test('a last event without its blank line, or its last line break, still counts', () => {
    assert.deepEqual(parse(['data: 1\n\ndata: 2\n']), [[undefined, '1'], [undefined, '2']])
    assert.deepEqual(parse(['data: 1\n\ndata: 2']), [[undefined, '1'], [undefined, '2']])
    assert.deepEqual(parse(['data: 1\r']), [[undefined, '1']])
  })

  test('fields other than event and data, and lines without a colon, carry no data', () => {
    assert.deepEqual(parse(['id: 7\nretry: 10\n\ndata\n\nevent: only\n\n']), [[undefined, ''], ['only', '']])
  })

  test('an event handler returning true stops the parse', () => {
    const seen: string[] = []
    const parser = new EventStreamParser((_, data) => {
      seen.push(data)
      return data === 'stop'
    })
    parser.push('data: a\n\ndata: stop\n\ndata: b\n\n')
    parser.push('data: c\n\n')
    parser.end()
    assert.deepEqual(seen, ['a', 'stop'])
    assert.equal(parser.stopped, true)
  })
})

describe('readEventStream reads as the openai SDK\'s Stream does', () => {
  const cases: Record<string, string> = {
    'named events': 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"Hi"}\n\nevent: response.completed\ndata: {"type":"response.completed"}\n\n',
    'bare data and [DONE], ignoring what follows it': 'data: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\ndata: {"n":3}\n\n',
    'comments and CRLF': ': keep-alive\r\n\r\ndata: {"n":1}\r\n\r\n',
    'malformed JSON': 'data: {"n":1}\n\ndata: {"n":\n\n',
    'an error event': 'data: {"n":1}\n\nevent: error\ndata: {"error":{"message":"overloaded","type":"server_error"}}\n\n',
    'data carrying an error': 'data: {"error":{"message":"quota","code":"insufficient_quota"}}\n\n',
    'a last event without its blank line': 'data: {"n":1}\n\ndata: {"n":2}',
  }
  for (const [name, wire] of Object.entries(cases)) {
    test(name, async () => {
      for (const chunks of [[wire], [...wire]]) {
        const [router, sdk] = [await routerReads(chunks), await sdkReads(chunks)]
        assert.deepEqual(router.data, sdk.data)
        assert.equal(router.error?.constructor, sdk.error?.constructor)
        assert.equal((router.error as Error | undefined)?.message, (sdk.error as Error | undefined)?.message)
        if (sdk.error instanceof APIError) assert.deepEqual((router.error as APIError).error, sdk.error.error)
      }
    })
  }

  test('returns what the handler found, and stops there', async () => {
    let read = 0
    const found = await readEventStream(streamed(['data: {"n":1}\n\ndata: {"n":2}\n\ndata: {"n":3}\n\n']), (event) => {
      read++
      return event.n === 2 ? 'second' : undefined
    })
    assert.equal(found, 'second')
    assert.equal(read, 2)
  })
})
