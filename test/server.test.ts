import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { PLACEHOLDER_API_KEY } from '../src/routing/routing-config.js'
import { FakeOpenAI } from './support/fake-openai.js'
import { spawnRouter, startRouterProcess } from './support/router-process.js'
import { waitFor } from './support/wait-for.js'

// The entry point itself: start-up failure output and exit codes, which buildApp cannot show.
async function collect (child: ChildProcess): Promise<{ code: number | null, stdout: string, stderr: string }> {
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk })
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, stdout, stderr }
}

// Node's own warnings aside.
const stderrLines = (stderr: string) => stderr.trim().split('\n').filter((line) => !/DeprecationWarning|--trace-warnings/.test(line))

describe('entry point', () => {
  test('a bad setting stops start-up with one clear line and exit code 1', async () => {
    const { code, stderr } = await collect(spawnRouter({ OPENAI_API_KEY: 'sk-x', PORT: 'abc' }))
    assert.equal(code, 1)
    assert.deepEqual(stderrLines(stderr), ['mcp-openai-router: Invalid configuration: PORT must be integer'])
  })

  test('the .env.example placeholder key stops start-up with one clear line and exit code 1', async () => {
    const envExample = await readFile('.env.example', 'utf8')
    assert.match(envExample, new RegExp(`^OPENAI_API_KEY=${PLACEHOLDER_API_KEY}$`, 'm'), 'the placeholder refused is the one .env.example ships')
    const { code, stderr } = await collect(spawnRouter({ OPENAI_API_KEY: PLACEHOLDER_API_KEY }))
    assert.equal(code, 1)
    assert.deepEqual(stderrLines(stderr), ['mcp-openai-router: Invalid configuration: OPENAI_API_KEY is the .env.example placeholder (sk-your-key); set your API key'])
  })

  test('an empty variable means unset: a blanked OPENAI_API_KEY beside OPENAI_API_KEY_FILE, and blanked settings with defaults, start the router', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'router-empty-env-'))
    const keyFile = join(folder, 'openai-key')
    await writeFile(keyFile, 'sk-from-the-file\n')
    const upstream = await FakeOpenAI.start()
    // As a .env with `OPENAI_API_KEY=` (compose's own blanked line) hands them over.
    const started = await startRouterProcess({ OPENAI_API_KEY: '', OPENAI_API_KEY_FILE: keyFile, OPENAI_BASE_URL: upstream.baseURL, MODEL: '', LOG_LEVEL: '', UPSTREAM_TIMEOUT_MS: '', READ_FILE_ROOT: '' })
    try {
      const answer = await fetch(`http://127.0.0.1:${started.port}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'chat', arguments: { prompt: 'hi' } } }),
      })
      assert.match(await answer.text(), /echo: hi/)
      const [request] = upstream.received('POST /v1/responses')
      assert.equal(request?.headers.authorization, 'Bearer sk-from-the-file', 'the key came from the file')
      assert.equal(request?.body.model, 'gpt-4.1-mini', 'MODEL= took the default')
    } finally {
      await started.kill()
      await upstream.close()
      await rm(folder, { recursive: true, force: true })
    }
  })

  test('a port already in use stops start-up with one clear line and exit code 1', async () => {
    const taken = createServer()
    taken.listen(0, '127.0.0.1')
    await once(taken, 'listening')
    const { port } = taken.address() as AddressInfo
    try {
      const { code, stdout, stderr } = await collect(spawnRouter({ OPENAI_API_KEY: 'sk-x', PORT: String(port), HOST: '127.0.0.1' }))
      assert.equal(code, 1)
      assert.deepEqual(stderrLines(stderr), [`mcp-openai-router: PORT ${port} is already in use on 127.0.0.1`])
      assert.doesNotMatch(stdout, /EADDRINUSE|"level":[56]0/, 'no fatal log line with a stack')
    } finally {
      taken.close()
    }
  })

  test('SIGTERM closes the server gracefully with exit code 0, and the key never reaches the log', async () => {
    const upstream = await FakeOpenAI.start()
    const child = spawnRouter({ OPENAI_API_KEY: 'sk-secret-must-not-leak', OPENAI_BASE_URL: upstream.baseURL, PORT: '0', HOST: '127.0.0.1' })
    const result = collect(child)
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => { output += chunk })
    try {
      await waitFor(() => /Server listening at/.test(output), 'the server to listen', 60_000)
      const port = /127\.0\.0\.1:(\d+)/.exec(output)?.[1]
      const answer = await fetch(`http://127.0.0.1:${port}/mcp`, {
        method: 'POST',
        headers: { authorization: 'Bearer client-secret', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'chat', arguments: { prompt: 'hi' } } }),
      })
      assert.match(await answer.text(), /echo: hi/)
      child.kill('SIGTERM')
      const { code, stdout } = await result
      assert.equal(code, 0)
      assert.match(stdout, /"signal":"SIGTERM"/)
      assert.doesNotMatch(stdout, /sk-secret-must-not-leak|client-secret/)
    } finally {
      child.kill('SIGKILL')
      await upstream.close()
    }
  })
})
