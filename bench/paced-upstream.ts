/**
 * A paced OpenAI-compatible upstream in a process of its own: every streamed answer (Responses API
 * or Chat Completions, their real SSE wire formats) is {@link DELTAS} text deltas, one every
 * {@link INTERVAL_MS}, as a model writing an answer would send them. Prints its base URL.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DELTAS, delta, INTERVAL_MS, PACED_ANSWER } from './paced-answer.js'

const server = createServer((req, res) => {
  answer(req, res).catch(() => res.destroy())
})
server.keepAliveTimeout = 120_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1\n`)
})

let counter = 0

async function answer (req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { model?: string, stream?: boolean }
  const model = body.model ?? 'gpt-4.1-mini'
  const id = ++counter
  const frames = req.url === '/v1/responses'
    ? responseFrames(`resp_${id}`, model)
    : req.url === '/v1/chat/completions' ? chatCompletionFrames(`chatcmpl_${id}`, model) : undefined
  if (!frames || body.stream !== true) {
    res.writeHead(404, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: { message: 'this upstream streams only', type: 'invalid_request_error', param: null, code: null } }))
    return
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': `req_${id}` })
  res.write(frames.head)
  let sent = 0
  const timer = setInterval(() => {
    if (res.destroyed) {
      clearInterval(timer)
      return
    }
    res.write(frames.delta(sent++))
    if (sent < DELTAS) return
    clearInterval(timer)
    res.end(frames.tail())
  }, INTERVAL_MS)
  res.once('close', () => clearInterval(timer))
}

/** An answer's SSE frames: what comes before the text, each text delta, and what follows it (built in that order). */
interface Frames { head: string, delta: (index: number) => string, tail: () => string }

const frame = (event: { type: string }) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`

function responseFrames (id: string, model: string): Frames {
  let sequence = 0
  const item = { id: `msg_${id}`, type: 'message', role: 'assistant' }
  const response = (status: string, output: unknown[], usage: unknown) => ({
    id,
    object: 'response',
    created_at: 1_700_000_000,
    status,
    model,
    output,
    usage,
    error: null,
    incomplete_details: null,
    instructions: null,
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    text: { format: { type: 'text' } },
  })
  const where = { item_id: item.id, output_index: 0, content_index: 0 }
  const part = { type: 'output_text', text: PACED_ANSWER, annotations: [] }
  const head = [
    { type: 'response.created', response: response('in_progress', [], null) },
    { type: 'response.in_progress', response: response('in_progress', [], null) },
    { type: 'response.output_item.added', output_index: 0, item: { ...item, status: 'in_progress', content: [] } },
    { type: 'response.content_part.added', ...where, part: { ...part, text: '' } },
  ]
  const done = { ...item, status: 'completed', content: [part] }
  const tail = [
    { type: 'response.output_text.done', ...where, text: PACED_ANSWER, logprobs: [] },
    { type: 'response.content_part.done', ...where, part },
    { type: 'response.output_item.done', output_index: 0, item: done },
    { type: 'response.completed', response: response('completed', [done], { input_tokens: 12, output_tokens: DELTAS, total_tokens: 12 + DELTAS }) },
  ]
  const numbered = (event: { type: string }) => frame({ ...event, sequence_number: sequence++ } as { type: string })
  return {
    head: head.map(numbered).join(''),
    delta: (index) => numbered({ type: 'response.output_text.delta', ...where, delta: delta(index), logprobs: [] } as { type: string }),
    tail: () => tail.map(numbered).join(''),
  }
}

function chatCompletionFrames (id: string, model: string): Frames {
  const base = { id, object: 'chat.completion.chunk', created: 1_700_000_000, model, system_fingerprint: 'fp_paced' }
  const chunk = (choices: unknown[], extra: object = {}) => `data: ${JSON.stringify({ ...base, choices, ...extra })}\n\n`
  const choice = (deltaFields: object, finishReason: string | null = null) =>
    [{ index: 0, delta: deltaFields, logprobs: null, finish_reason: finishReason }]
  return {
    head: chunk(choice({ role: 'assistant', content: '', refusal: null })),
    delta: (index) => chunk(choice({ content: delta(index) })),
    tail: () => chunk(choice({}, 'stop')) + chunk([], { usage: { prompt_tokens: 12, completion_tokens: DELTAS, total_tokens: 12 + DELTAS } }) + 'data: [DONE]\n\n',
  }
}
