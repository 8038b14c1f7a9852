import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import pkg from '../../package.json' with { type: 'json' }
import { BUILD_INPUTS, BUILD_OUTPUT, isBuildStale } from '../../scripts/build-if-stale.js'
import { BUILT_ENTRY, buildIfStale, whenReady } from '../support/router-process.js'

describe('building only when the sources changed', () => {
  let root: string
  const hourAgo = new Date(Date.now() - 3_600_000)
  // The build is dated between the sources and now, so an edit is newer than it whatever the file system's timestamp granularity.
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
    assert.equal(isBuildStale(root), true, 'never built')
    for (const input of BUILD_INPUTS) {
      await backdate(input)
      if (!input.includes('.')) await Promise.all([backdate(join(input, 'nested')), backdate(join(input, 'nested', 'a.ts'))])
    }
    await mkdir(dirname(join(root, BUILD_OUTPUT)), { recursive: true })
    await writeFile(join(root, BUILD_OUTPUT), '')
    await utimes(join(root, BUILD_OUTPUT), halfHourAgo, halfHourAgo)
    assert.equal(isBuildStale(root), false, 'built after every source changed')

    await writeFile(join(root, 'plugins', 'nested', 'a.ts'), 'edited')
    assert.equal(isBuildStale(root), true, 'a nested source edited')
    await backdate(join('plugins', 'nested', 'a.ts'))
    assert.equal(isBuildStale(root), false)

    await writeFile(join(root, 'routes', 'nested', 'b.ts'), '')
    await backdate(join('routes', 'nested', 'b.ts'))
    assert.equal(isBuildStale(root), true, 'a source added (its directory changed)')
    await backdate(join('routes', 'nested'))
    await rm(join(root, 'routes', 'nested', 'b.ts'))
    assert.equal(isBuildStale(root), true, 'a source removed')
    await backdate(join('routes', 'nested'))

    await writeFile(join(root, 'tsconfig.build.json'), '{"compilerOptions": {}}')
    assert.equal(isBuildStale(root), true, 'the build settings changed')
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
