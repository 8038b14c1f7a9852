import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { CallToolResultSchema, type CallToolResult, type Task } from '@modelcontextprotocol/sdk/types.js'
import { bearer, TEAM_A_KEY, TEAM_B_KEY, writeClientsFile } from '../support/client-keys.js'
import { FakeOpenAI } from '../support/fake-openai.js'
import { LogCapture } from '../support/logs.js'
import { errorMeta, textOf } from '../support/results.js'
import { connectClient, startRouter, startStack } from '../support/router.js'
import { waitFor } from '../support/wait-for.js'

/** Runs a tool call as a task through the SDK client, collecting the task it created and the result. */
async function callAsTask (client: Client, name: string, args: Record<string, unknown>, onCreated?: (task: Task) => void) {
  let created: Task | undefined
  let result: CallToolResult | undefined
  let error: Error | undefined
  for await (const message of client.experimental.tasks.callToolStream({ name, arguments: args }, CallToolResultSchema, { task: { ttl: 60_000 } })) {
    if (message.type === 'taskCreated') {
      created = message.task
      onCreated?.(message.task)
    }
    if (message.type === 'result') result = message.result as CallToolResult
    if (message.type === 'error') error = message.error
  }
  return { created, result, error }
}

for (const mode of ['stateless', 'stateful'] as const) {
  describe(`tool calls as MCP tasks (${mode})`, () => {
    test('chat and generate_image offer tasks; a chat task runs and returns the usual result', async () => {
      const stack = await startStack({ MCP_SESSIONS: mode, POLL_INTERVAL_MS: '20' })
      try {
        const { tools } = await stack.client.listTools()
        assert.deepEqual(tools.filter((tool) => tool.execution?.taskSupport === 'optional').map((tool) => tool.name), ['chat', 'generate_image'])
        const { created, result } = await callAsTask(stack.client, 'chat', { prompt: 'as a task' })
        assert.ok(created?.taskId)
        assert.equal(created.ttl, 60_000)
        assert.equal(textOf(result!), 'echo: as a task')
        const task = await stack.client.experimental.tasks.getTask(created.taskId)
        assert.equal(task.status, 'completed')
        const listed = await stack.client.experimental.tasks.listTasks()
        // Stateless clients share the store, so listing shows nothing; a session sees its own tasks.
        assert.deepEqual(listed.tasks.map((listedTask) => listedTask.taskId), mode === 'stateful' ? [created.taskId] : [])
      } finally {
        if (mode === 'stateful') await (stack.client.transport as StreamableHTTPClientTransport).terminateSession()
        await stack.close()
      }
    })

    test('a background chat as a task waits for the response past POLL_MAX_MS', async () => {
      const stack = await startStack({ MCP_SESSIONS: mode, POLL_INTERVAL_MS: '20', POLL_MAX_MS: '0' })
      try {
        stack.upstream.backgroundPolls = 3
        const { result } = await callAsTask(stack.client, 'chat', { prompt: 'a long report', background: true })
        assert.equal(textOf(result!), 'echo: a long report')
        assert.equal(stack.upstream.received('GET /v1/responses/{id}').length, 4)
      } finally {
        if (mode === 'stateful') await (stack.client.transport as StreamableHTTPClientTransport).terminateSession()
        await stack.close()
      }
    })

    test('tasks/cancel stops the work and its upstream request', async () => {
      const stack = await startStack({ MCP_SESSIONS: mode, POLL_INTERVAL_MS: '20' })
      try {
        stack.upstream.script('POST /v1/responses', { delayMs: 5000, json: stack.upstream.responseBody('gpt-4.1-mini', 'too late') })
        const { created } = await callAsTask(stack.client, 'chat', { prompt: 'slow' }, (task) => {
          waitFor(() => stack.upstream.received('POST /v1/responses').length === 1, 'the upstream request')
            .then(async () => stack.client.experimental.tasks.cancelTask(task.taskId))
            .catch(() => {})
        })
        await waitFor(() => stack.upstream.received('POST /v1/responses')[0]?.closedEarly === true, 'the upstream request to be aborted')
        assert.equal((await stack.client.experimental.tasks.getTask(created!.taskId)).status, 'cancelled')
        await waitFor(() => stack.router.app.toolTasks.running === 0, 'the task work to end')
      } finally {
        if (mode === 'stateful') await (stack.client.transport as StreamableHTTPClientTransport).terminateSession()
        await stack.close()
      }
    })
  })
}

describe('tasks with client keys', () => {
  for (const mode of ['stateless', 'stateful'] as const) {
    test(`belong to the client that created them: another client finds none of them (${mode})`, async () => {
      const upstream = await FakeOpenAI.start()
      const router = await startRouter(upstream, { MCP_SESSIONS: mode, CLIENT_KEYS_FILE: await writeClientsFile() })
      const teamA = await connectClient(router, bearer(TEAM_A_KEY))
      const teamB = await connectClient(router, bearer(TEAM_B_KEY))
      try {
        const { created } = await callAsTask(teamA, 'chat', { prompt: 'team a\'s secret plan' })
        assert.ok(created)
        const { taskId } = created
        await assert.rejects(teamB.experimental.tasks.getTask(taskId), /Task not found/)
        await assert.rejects(teamB.experimental.tasks.getTaskResult(taskId, CallToolResultSchema), /Task not found/)
        await assert.rejects(teamB.experimental.tasks.cancelTask(taskId), /Task not found/)
        assert.equal((await teamA.experimental.tasks.getTask(taskId)).status, 'completed')
        assert.equal(textOf(await teamA.experimental.tasks.getTaskResult(taskId, CallToolResultSchema)), 'echo: team a\'s secret plan')
      } finally {
        for (const client of [teamA, teamB]) {
          if (mode === 'stateful') await (client.transport as StreamableHTTPClientTransport).terminateSession()
          await client.close()
        }
        await router.close()
        await upstream.close()
      }
    })
  }
})

describe('task failures', () => {
  test('a failing call ends its task as failed, with the usual isError result', async () => {
    const stack = await startStack({ POLL_INTERVAL_MS: '20' })
    try {
      stack.upstream.script('POST /v1/responses', { status: 503, json: { error: { message: 'Overloaded.', type: 'server_error', param: null, code: null } } })
      const { created, error } = await callAsTask(stack.client, 'chat', { prompt: 'x' })
      assert.match(String(error), /failed/)
      assert.equal((await stack.client.experimental.tasks.getTask(created!.taskId)).status, 'failed')
      // tasks/result still gives the actionable message.
      const result = await stack.client.experimental.tasks.getTaskResult(created!.taskId, CallToolResultSchema)
      assert.equal(result.isError, true)
      assert.equal(errorMeta(result).code, 'upstream_unavailable')

      const invalid = await callAsTask(stack.client, 'chat', { temperature: 9 })
      const invalidResult = await stack.client.experimental.tasks.getTaskResult(invalid.created!.taskId, CallToolResultSchema)
      assert.match(textOf(invalidResult), /temperature must be <= 2/)
    } finally {
      await stack.close()
    }
  })

  test('the task lifetime is capped at TASK_TTL_MS, and unknown task ids are an error', async () => {
    const stack = await startStack({ TASK_TTL_MS: '5000', POLL_INTERVAL_MS: '20' })
    try {
      const { created } = await callAsTask(stack.client, 'chat', { prompt: 'x' })
      assert.equal(created?.ttl, 5000)
      await assert.rejects(stack.client.experimental.tasks.getTask('no-such-task'), /Task not found/)
    } finally {
      await stack.close()
    }
  })
})

describe('tool calls as MCP tasks in the logs', () => {
  test('the tools/call line names the task; the task logs its own line with tokens when its work ends', async () => {
    const logs = new LogCapture()
    const stack = await startStack({ LOG_LEVEL: 'info', MODEL: 'gpt-4.1-mini', POLL_INTERVAL_MS: '20' }, { logs })
    try {
      const { created } = await callAsTask(stack.client, 'chat', { prompt: 'as a task' })
      assert.ok(created?.taskId)
      const [call] = logs.find({ rpcMethod: 'tools/call', tool: 'chat' })
      assert.equal(call?.taskId, created.taskId)
      assert.equal(call?.outcome, 'ok')
      await waitFor(() => logs.find({ msg: 'task chat: ok' }).length === 1, 'the task line')
      const [task] = logs.find({ msg: 'task chat: ok' })
      assert.equal(task?.taskId, created.taskId)
      assert.equal(task?.modelAnswered, 'gpt-4.1-mini')
      assert.equal(task?.inputTokens, 11)
      assert.equal(typeof task?.durationMs, 'number')
    } finally {
      await stack.close()
    }
  })
})
