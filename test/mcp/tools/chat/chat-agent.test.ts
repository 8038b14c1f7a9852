import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { FakeDownstream } from '../../../support/downstream-mcp.js'
import type { FakeFunctionCall } from '../../../support/fake-openai.js'
import { errorMeta, textOf } from '../../../support/results.js'
import { postMcp, startStack, type TestStack } from '../../../support/router.js'
import { waitFor } from '../../../support/wait-for.js'

interface TracedTurn {
  turn: number
  toolCalls: Array<{ name: string, arguments: unknown, outcome: string, error?: string, durationMs: number }>
}

const DOWNSTREAM_TOKEN = 'downstream-token-123'

for (const api of ['responses', 'chat_completions'] as const) {
  describe(`chat with downstream tools over the ${api} API`, () => {
    let downstream: FakeDownstream
    let stack: TestStack
    const route = api === 'responses' ? 'POST /v1/responses' : 'POST /v1/chat/completions'
    /** Scripts one model turn that calls these functions. */
    const callsTools = (...calls: FakeFunctionCall[]) => stack.upstream.script(route, {
      json: api === 'responses' ? stack.upstream.functionCallResponse('gpt-4.1-mini', calls) : stack.upstream.chatCompletionBody('gpt-4.1-mini', null, 'tool_calls', calls),
    })
    const answers = (text: string) => stack.upstream.script(route, {
      json: api === 'responses' ? stack.upstream.responseBody('gpt-4.1-mini', text) : stack.upstream.chatCompletionBody('gpt-4.1-mini', text),
    })
    /** The tool outputs the model was sent in the request of turn `index` (0-based). */
    const toolOutputsSent = (index: number) => {
      const body = stack.upstream.received(route)[index]?.body as Record<string, any>
      return api === 'responses'
        ? (body.input as any[]).filter((item) => item.type === 'function_call_output').map((item) => ({ id: item.call_id, output: item.output }))
        : (body.messages as any[]).filter((message) => message.role === 'tool').map((message) => ({ id: message.tool_call_id, output: message.content }))
    }

    before(async () => {
      downstream = await FakeDownstream.start()
      stack = await startStack({
        UPSTREAM_API: api,
        MODEL: 'gpt-4.1-mini',
        DOWNSTREAM_MCP: JSON.stringify([{ name: 'tools', url: downstream.url, tokenEnv: 'TOOLS_TOKEN', timeoutMs: 300 }]),
        TOOLS_TOKEN: DOWNSTREAM_TOKEN,
        THINK_TOOL_URL: downstream.url,
        DOWNSTREAM_RECONNECT_MS: '20',
      })
    })
    after(async () => {
      await stack.close()
      await downstream.stop()
    })
    beforeEach(() => {
      stack.upstream.reset()
      downstream.calls.length = 0
    })

    test('runs the think tool over several turns and answers, with the trace and the usage of every turn', async () => {
      callsTools({ id: 'call_1', name: 'think__think', arguments: '{"thought":"the user wants a greeting"}' })
      callsTools({ id: 'call_2', name: 'think__think', arguments: '{"thought":"keep it short"}' })
      answers('Hello!')
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Greet me', use_tools: ['think'] } })
      assert.equal(result.isError, undefined)
      assert.equal(textOf(result), 'Hello!')

      const requests = stack.upstream.received(route)
      assert.equal(requests.length, 3)
      const { tools } = requests[0]?.body as { tools: Array<Record<string, any>> }
      const offered = tools.map((tool) => tool.name ?? tool.function?.name)
      assert.deepEqual(offered, ['think__think'], 'only the selected server\'s tools are offered')
      assert.deepEqual(toolOutputsSent(1), [{ id: 'call_1', output: 'Thought noted: the user wants a greeting' }])
      assert.deepEqual(toolOutputsSent(2), [{ id: 'call_1', output: 'Thought noted: the user wants a greeting' }, { id: 'call_2', output: 'Thought noted: keep it short' }])
      assert.deepEqual(downstream.calls.map((call) => call.args.thought), ['the user wants a greeting', 'keep it short'])

      const structured = result.structuredContent as {
        trace: TracedTurn[]
        usage: { inputTokens: number }
        toolCalls: unknown[]
      }
      assert.deepEqual(structured.trace.map((turn) => turn.toolCalls.map((call) => [call.name, call.outcome])), [[['think__think', 'ok']], [['think__think', 'ok']], []])
      assert.deepEqual(structured.trace[0]?.toolCalls[0]?.arguments, { thought: 'the user wants a greeting' })
      assert.equal(structured.usage.inputTokens, 3 * (api === 'responses' ? 11 : 13))
      assert.deepEqual(structured.toolCalls, [])
    })

    test('runs several calls of one turn in parallel, with the configured bearer token', async () => {
      callsTools(
        { id: 'call_a', name: 'tools__slow_echo', arguments: '{"text":"a","ms":150}' },
        { id: 'call_b', name: 'tools__slow_echo', arguments: '{"text":"b","ms":150}' }
      )
      answers('both done')
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Do two things', use_tools: ['tools__slow_*'] } })
      assert.equal(textOf(result), 'both done')
      const [first, second] = downstream.calls
      assert.ok(first && second)
      assert.ok(second.startedAt < (first.endedAt ?? 0), 'the second call started before the first ended')
      assert.equal(first.authorization, `Bearer ${DOWNSTREAM_TOKEN}`)
      assert.deepEqual(toolOutputsSent(1), [{ id: 'call_a', output: 'a' }, { id: 'call_b', output: 'b' }])
    })

    test('gives a downstream error and a timeout to the model as outputs, and goes on', async () => {
      callsTools(
        { id: 'call_f', name: 'tools__fail', arguments: '{"reason":"disk full"}' },
        { id: 'call_h', name: 'tools__hang', arguments: '{}' },
        { id: 'call_j', name: 'tools__slow_echo', arguments: 'not json' }
      )
      answers('I could not do it')
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Try', agent: true } })
      assert.equal(result.isError, undefined)
      assert.equal(textOf(result), 'I could not do it')
      const outputs = toolOutputsSent(1)
      assert.equal(outputs[0]?.output, 'Error: failed on purpose: disk full')
      assert.match(String(outputs[1]?.output), /^Error: tools__hang did not answer within 300 ms/)
      assert.equal(outputs[2]?.output, 'Error: the arguments are not valid JSON')
      const [turn] = (result.structuredContent as { trace: TracedTurn[] }).trace
      assert.deepEqual(turn?.toolCalls.map((call) => call.outcome), ['error', 'error', 'error'])
      await waitFor(() => downstream.calls.find((call) => call.tool === 'hang')?.aborted === true, 'the timed-out call to be cancelled downstream')
    })

    test('hands calls to functions it does not own back to the client, ending the loop', async () => {
      callsTools({ id: 'call_w', name: 'get_weather', arguments: '{"city":"Paris"}' })
      const result = await stack.client.callTool({
        name: 'chat',
        arguments: { prompt: 'Weather?', use_tools: ['think'], tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }] },
      })
      assert.equal(result.isError, undefined)
      const structured = result.structuredContent as { toolCalls: Array<{ name: string }>, trace: TracedTurn[] }
      assert.deepEqual(structured.toolCalls.map((call) => call.name), ['get_weather'])
      assert.equal(structured.trace.length, 1)
      assert.equal(downstream.calls.length, 0)
    })

    test('stops at max_turns with the partial answer, isError and the trace', async () => {
      for (let i = 0; i < 3; i++) callsTools({ id: `call_${i}`, name: 'think__think', arguments: `{"thought":"step ${i}"}` })
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Loop', use_tools: ['think'], max_turns: 2 } })
      assert.equal(result.isError, true)
      assert.equal(errorMeta(result).code, 'max_turns')
      assert.match(textOf(result), /still calling tools after 2 turns/)
      assert.equal(stack.upstream.received(route).length, 2)
      assert.equal(downstream.calls.length, 1, 'the calls of the last turn are not run')
      assert.equal((result.structuredContent as { trace: TracedTurn[] }).trace.length, 2)
    })

    test('refuses a selector that names no downstream tool, naming those that exist', async () => {
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'x', use_tools: ['nope__*'] } })
      assert.equal(errorMeta(result).code, 'invalid_arguments')
      assert.match(textOf(result), /use_tools entry "nope__\*" names no downstream tool\. Available: tools, think, tools__think/)
      assert.equal(stack.upstream.received(route).length, 0)
    })
  })
}

describe('chat with downstream tools: cancellation, progress, restarts and readiness', () => {
  let downstream: FakeDownstream
  let stack: TestStack

  before(async () => {
    downstream = await FakeDownstream.start()
    stack = await startStack({ MODEL: 'gpt-4.1-mini', THINK_TOOL_URL: downstream.url, DOWNSTREAM_MCP: JSON.stringify([{ name: 'tools', url: downstream.url }]), DOWNSTREAM_RECONNECT_MS: '20' })
  })
  after(async () => {
    await stack.close()
    await downstream.stop()
  })
  beforeEach(() => {
    stack.upstream.reset()
    downstream.calls.length = 0
  })

  test('progress says which turn runs and which tool', async () => {
    stack.upstream.script('POST /v1/responses', { json: stack.upstream.functionCallResponse('gpt-4.1-mini', [{ id: 'c1', name: 'think__think', arguments: '{"thought":"x"}' }]) })
    const messages: string[] = []
    await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Hi', use_tools: ['think'] } }, undefined, {
      onprogress: (progress) => { if (progress.message) messages.push(progress.message) },
    })
    assert.ok(messages.includes('turn 1: asking gpt-4.1-mini'))
    assert.ok(messages.includes('turn 1: running think__think'))
    assert.ok(messages.includes('turn 2: asking gpt-4.1-mini'))
  })

  test('cancelling the chat stops the loop and the downstream call in flight', async () => {
    stack.upstream.script('POST /v1/responses', { json: stack.upstream.functionCallResponse('gpt-4.1-mini', [{ id: 'c1', name: 'tools__hang', arguments: '{}' }]) })
    const controller = new AbortController()
    const call = stack.client.callTool({ name: 'chat', arguments: { prompt: 'Hang', agent: true } }, undefined, { signal: controller.signal })
    await waitFor(() => downstream.calls.some((entry) => entry.tool === 'hang'), 'the downstream call')
    controller.abort('changed my mind')
    await assert.rejects(call)
    await waitFor(() => downstream.calls.find((entry) => entry.tool === 'hang')?.aborted === true, 'the downstream call to be cancelled')
    assert.equal(stack.upstream.received('POST /v1/responses').length, 1, 'no further turn')
  })

  test('a downstream that restarts is reconnected, and /ready shows its state without failing', async () => {
    const ready = async () => (await (await fetch(`${stack.router.url}/ready`)).json()) as { status: string, checks: { downstream: Record<string, { status: string, tools: string[] }> } }
    assert.deepEqual((await ready()).checks.downstream.think?.tools, ['think'])
    await downstream.stop()
    // The lost session is noticed without waiting for a call; until the server is back, use_tools naming it fails fast.
    await waitFor(async () => (await ready()).checks.downstream.think?.status === 'failing', 'the downstream to be seen failing')
    const unready = await ready()
    assert.equal(unready.status, 'ready', 'an optional downstream does not make the router unready')
    const during = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Hi', use_tools: ['think'] } })
    assert.equal(during.isError, true)
    assert.equal(errorMeta(during).code, 'upstream_unavailable')
    assert.match(textOf(during), /The MCP server "think" that use_tools names is failing .*retry shortly/)
    assert.equal(stack.upstream.received('POST /v1/responses').length, 0)

    await downstream.listen()
    await waitFor(async () => (await ready()).checks.downstream.think?.status === 'ready', 'the reconnection', 5000)
    stack.upstream.script('POST /v1/responses', { json: stack.upstream.functionCallResponse('gpt-4.1-mini', [{ id: 'c2', name: 'think__think', arguments: '{"thought":"again"}' }]) })
    const afterRestart = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Hi', use_tools: ['think'] } })
    assert.equal((afterRestart.structuredContent as { trace: TracedTurn[] }).trace[0]?.toolCalls[0]?.outcome, 'ok')
  })

  test('a tool the downstream adds later is offered once it says its list changed', async () => {
    const ready = async () => (await (await fetch(`${stack.router.url}/ready`)).json()) as { checks: { downstream: Record<string, { tools: string[] }> } }
    downstream.addTool('added_later')
    await waitFor(async () => (await ready()).checks.downstream.tools?.tools.includes('added_later') === true, 'the new tool to be listed', 5000)
    stack.upstream.script('POST /v1/responses', { json: stack.upstream.functionCallResponse('gpt-4.1-mini', [{ id: 'c1', name: 'tools__added_later', arguments: '{}' }]) })
    const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Use it', use_tools: ['tools__added_*'] } })
    assert.equal((result.structuredContent as { trace: TracedTurn[] }).trace[0]?.toolCalls[0]?.outcome, 'ok')
    assert.deepEqual(stack.upstream.received('POST /v1/responses')[1]?.body.input.at(-1), { type: 'function_call_output', call_id: 'c1', output: 'added_later ran' })
  })

  test('background cannot be combined with use_tools', async () => {
    const response = await postMcp(stack.router, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'chat', arguments: { prompt: 'x', agent: true, background: true } } })
    const body = await response.json() as { result: object }
    assert.match(textOf(body.result), /background cannot be combined with use_tools or agent/)
  })
})
