import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { FakeOpenAI } from './support/fake-openai.js'
import { type RunningRouter, startRouter } from './support/router.js'

const conformanceCli = join(createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/package.json'), '..', 'dist', 'index.js')

// The official suite's scenarios that apply to a tools-only server; the others need its fixture tools.
const scenarios = ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection']

describe('MCP conformance suite', () => {
  let upstream: FakeOpenAI
  let router: RunningRouter
  let workDir: string

  before(async () => {
    upstream = await FakeOpenAI.start()
    router = await startRouter(upstream)
    // The suite writes result files into its working directory.
    workDir = await mkdtemp(join(tmpdir(), 'router-conformance-'))
  })
  after(async () => {
    await router.close()
    await upstream.close()
    await rm(workDir, { recursive: true, force: true })
  })

  for (const scenario of scenarios) {
    test(scenario, async () => {
      const { stdout } = await promisify(execFile)(process.execPath, [conformanceCli, 'server', '--url', router.mcpUrl.href, '--scenario', scenario], { cwd: workDir, timeout: 60_000 })
      assert.match(stdout, /Passed: (\d+)\/\1, 0 failed, 0 warnings/)
    })
  }
})
