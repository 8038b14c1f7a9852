import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import pkg from '../../package.json' with { type: 'json' }
import { BUILD_INPUTS, BUILD_OUTPUT, whyBuild } from '../../scripts/build-if-stale.js'
import { BUILT_ENTRY, buildIfStale, whenReady } from '../support/router-process.js'

const CHANGED = 'its sources changed since the last build'

describe('building only when the sources changed', () => {
  let root: string
  const hourAgo = new Date(Date.now() - 3_600_000)
  // The build is dated between the sources and now, so an edit is newer than it whatever the file
  // system's timestamp granularity.
  const halfHourAgo = new Date(Date.now() - 1_800_000)
  const backdate = async (path: string) => { await utimes(join(root, path), hourAgo, hourAgo) }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'router-build-'))
    for (const input of BUILD_INPUTS) {
      if (input.includes('.')) {
        await writeFile(join(root, input), '{}')
      } else {
        await mkdir(join(root, input, 'nested'), { recursive: true })
        await writeFile(join(root, input, 'nested', 'a.ts'), '')
      }
    }
  })
  after(async () => { await rm(root, { recursive: true, force: true }) })

  test('dist/ is stale when missing, current after a build, stale again after an edit, an added file or a removed one', async () => {
    assert.equal(whyBuild(root), 'there is no build yet', 'never built')
    for (const input of BUILD_INPUTS) {
      await backdate(input)
      if (!input.includes('.')) await Promise.all([backdate(join(input, 'nested')), backdate(join(input, 'nested', 'a.ts'))])
    }
    await mkdir(dirname(join(root, BUILD_OUTPUT)), { recursive: true })
    await writeFile(join(root, BUILD_OUTPUT), '')
    await utimes(join(root, BUILD_OUTPUT), halfHourAgo, halfHourAgo)
    assert.equal(whyBuild(root), undefined, 'built after every source changed')

    await writeFile(join(root, 'plugins', 'nested', 'a.ts'), 'edited')
    assert.equal(whyBuild(root), CHANGED, 'a nested source edited')
    await backdate(join('plugins', 'nested', 'a.ts'))
    assert.equal(whyBuild(root), undefined)

    await writeFile(join(root, 'routes', 'nested', 'b.ts'), '')
    await backdate(join('routes', 'nested', 'b.ts'))
    assert.equal(whyBuild(root), CHANGED, 'a source added (its directory changed)')
    await backdate(join('routes', 'nested'))
    await rm(join(root, 'routes', 'nested', 'b.ts'))
    assert.equal(whyBuild(root), CHANGED, 'a source removed')
    await backdate(join('routes', 'nested'))

    await writeFile(join(root, 'tsconfig.build.json'), '{"compilerOptions": {}}')
    assert.equal(whyBuild(root), CHANGED, 'the build settings changed')
  })

  test('a clone never built is told so, not that its sources changed', async () => {
    const clone = await mkdtemp(join(tmpdir(), 'router-clone-'))
    try {
      for (const input of BUILD_INPUTS) {
        if (input.includes('.')) await writeFile(join(clone, input), '{}')
        else await mkdir(join(clone, input))
      }
      // The build itself is not the subject: one that writes the entry point, as tsc does.
      await writeFile(join(clone, 'package.json'), JSON.stringify({ scripts: { build: `node -e "require('fs').mkdirSync('dist/src',{recursive:true});require('fs').writeFileSync('${BUILD_OUTPUT}','')"` } }))
      const says = async () => {
        const child = spawn(process.execPath, [fileURLToPath(new URL('../../scripts/build-if-stale.ts', import.meta.url))], { cwd: clone, env: { PATH: process.env.PATH }, stdio: ['ignore', 'ignore', 'pipe'] })
        let stderr = ''
        child.stderr.on('data', (chunk: Buffer) => { stderr += chunk })
        const [code] = await once(child, 'exit') as [number | null]
        assert.equal(code, 0, stderr)
        return stderr
      }
      assert.equal(await says(), 'mcp-openai-router: building dist/ (there is no build yet)\n')
      await utimes(join(clone, BUILD_OUTPUT), hourAgo, hourAgo)
      assert.equal(await says(), `mcp-openai-router: building dist/ (${CHANGED})\n`)
      assert.equal(await says(), '', 'current: nothing to say, nothing built')
    } finally {
      await rm(clone, { recursive: true, force: true })
    }
  })

  test('npm start on a current dist/ listens without running tsc', async () => {
    assert.equal(pkg.scripts.prestart, 'node scripts/build-if-stale.ts')
    buildIfStale()
    const built = (await stat(BUILT_ENTRY)).mtimeMs
    const npm = process.env.npm_execpath
    assert.ok(npm, 'the tests run under npm (npm test, npm exec)')
    // Its own process group: npm runs the router in a child of its own, which must end with it.
    const child = spawn(process.execPath, [npm, 'start'], {
      env: { PATH: process.env.PATH, OPENAI_API_KEY: 'sk-test', PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    const killGroup = () => { try { process.kill(-(child.pid ?? 0), 'SIGKILL') } catch {} }
    try {
      const started = await whenReady(child, /Server listening at http:\/\/127\.0\.0\.1:(\d+)|building dist/, 'npm start to listen')
      assert.match(started.ready[0], /Server listening/, 'no build on the way')
      assert.equal((await stat(BUILT_ENTRY)).mtimeMs, built, 'dist/ was not rewritten')
    } finally {
      killGroup()
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
    }
  })
})
