import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { describe, test } from 'node:test'
import { promisify } from 'node:util'
import { FakeOpenAI } from './support/fake-openai.js'
import { startRouter } from './support/router.js'

describe('README', () => {
  test('shows the client example exactly as examples/client.ts, and that example works', async () => {
    const [readme, example] = await Promise.all([readFile('README.md', 'utf8'), readFile('examples/client.ts', 'utf8')])
    assert.ok(readme.includes('```ts\n' + example + '```'), 'README embeds examples/client.ts verbatim')

    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream)
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/client.ts'], {
        env: { ...process.env, ROUTER_URL: router.mcpUrl.href },
        timeout: 30_000,
      })
      assert.equal(stdout, 'tools: chat, get_response, cancel_response, embed, generate_image, list_models, echo\nanswer: echo: Say hello in one word.\n')
    } finally {
      await router.close()
      await upstream.close()
    }
  })

  test('documents every configuration variable', async () => {
    const [readme, envExample] = await Promise.all([readFile('README.md', 'utf8'), readFile('.env.example', 'utf8')])
    const { ConfigSchema } = await import('../plugins/config.js')
    for (const name of Object.keys(ConfigSchema.properties)) {
      assert.ok(readme.includes(`\`${name}\``), `README names ${name}`)
      assert.match(envExample, new RegExp(`^#? ?${name}=`, 'm'), `.env.example lists ${name}`)
    }
  })

  test('documents every tool, every argument of each, and every error code', async () => {
    const readme = await readFile('README.md', 'utf8')
    const { tools } = await import('../src/mcp/tools/index.js')
    const { toolErrorCodes } = await import('../src/mcp/tool-error.js')
    for (const tool of tools) {
      const start = readme.indexOf(`### \`${tool.name}\``)
      assert.ok(start >= 0, `README has a section for ${tool.name}`)
      const section = readme.slice(start, readme.indexOf('\n### ', start + 1))
      for (const argument of Object.keys(tool.definition.inputSchema.properties ?? {})) {
        assert.ok(section.includes(`\`${argument}\``), `README documents ${tool.name}'s ${argument}`)
      }
      assert.ok(section.includes(`"name": "${tool.name}"`), `README shows a ${tool.name} call`)
    }
    for (const code of toolErrorCodes) assert.ok(readme.includes(`| \`${code}\` |`), `README explains error code ${code}`)
  })
})
