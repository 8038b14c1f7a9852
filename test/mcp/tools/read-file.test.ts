import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { buildApp } from '../../../src/app.js'
import { errorMeta, textOf } from '../../support/results.js'
import { startInProcessStack, type InProcessStack } from '../../support/app.js'
import { TEST_API_KEY } from '../../support/router.js'

describe('read_file', () => {
  let sandbox: string
  let root: string
  let stack: InProcessStack
  let socketServer: Server

  before(async () => {
    sandbox = await mkdtemp(join(tmpdir(), 'read-file-'))
    root = join(sandbox, 'shared')
    await mkdir(join(root, 'notes'), { recursive: true })
    await writeFile(join(root, 'notes', 'todo.md'), '# Todo\n- ship ✓\n')
    await writeFile(join(sandbox, 'secret.txt'), 'outside the root')
    await writeFile(join(root, 'big.txt'), 'é'.repeat(3000))
    await writeFile(join(root, 'binary.bin'), Buffer.from([0xff, 0xfe, 0x00, 0x81]))
    await symlink(join(root, 'notes', 'todo.md'), join(root, 'inside-link.md'))
    await symlink(join(sandbox, 'secret.txt'), join(root, 'escape-link.txt'))
    await symlink(sandbox, join(root, 'escape-dir'))
    execFileSync('mkfifo', [join(root, 'pipe')])
    await link(join(sandbox, 'secret.txt'), join(root, 'hard-link.txt'))
    socketServer = createServer().listen(join(root, 'socket'))
    await once(socketServer, 'listening')
    stack = await startInProcessStack({ READ_FILE_ROOT: root, READ_FILE_MAX_BYTES: '4096' })
  })
  after(async () => {
    await stack.close()
    socketServer.close()
    await rm(sandbox, { recursive: true, force: true })
  })

  test('is listed, and reads a text file by its relative path', async () => {
    const { tools } = await stack.client.listTools()
    assert.ok(tools.some((tool) => tool.name === 'read_file'))
    const result = await stack.client.callTool({ name: 'read_file', arguments: { path: 'notes/todo.md' } })
    assert.equal(result.isError, undefined)
    assert.equal(textOf(result), '# Todo\n- ship ✓\n')
    assert.deepEqual(result.structuredContent, { path: 'notes/todo.md', text: '# Todo\n- ship ✓\n', size: 18, truncated: false })
  })

  test('follows a symlink that stays inside the root', async () => {
    const result = await stack.client.callTool({ name: 'read_file', arguments: { path: 'inside-link.md' } })
    assert.equal((result.structuredContent as { text: string }).text, '# Todo\n- ship ✓\n')
  })

  test('cuts a file longer than max_bytes, never in the middle of a character', async () => {
    const result = await stack.client.callTool({ name: 'read_file', arguments: { path: 'big.txt', max_bytes: 101 } })
    const structured = result.structuredContent as { text: string, size: number, truncated: boolean }
    assert.equal(structured.size, 6000)
    assert.equal(structured.truncated, true)
    assert.equal(structured.text, 'é'.repeat(50))
    assert.match(textOf(result), /\[read 101 of 6000 bytes/)
    const capped = await stack.client.callTool({ name: 'read_file', arguments: { path: 'big.txt', max_bytes: 1_000_000 } })
    assert.equal((capped.structuredContent as { text: string }).text.length, 2048, 'READ_FILE_MAX_BYTES caps max_bytes')
  })

  const refusals: Array<[string, string, RegExp, string]> = [
    ['an absolute path', join(tmpdir(), 'secret.txt'), /not an absolute one/, 'invalid_arguments'],
    ['/etc/passwd', '/etc/passwd', /not an absolute one/, 'invalid_arguments'],
    ['a path with ..', '../secret.txt', /"\.\." is not allowed/, 'invalid_arguments'],
    ['a sneaky ..', 'notes/../../secret.txt', /"\.\." is not allowed/, 'invalid_arguments'],
    ['a symlink out of the root', 'escape-link.txt', /outside the shared directory/, 'invalid_arguments'],
    ['a path through a symlinked directory out of the root', 'escape-dir/secret.txt', /outside the shared directory/, 'invalid_arguments'],
    ['a directory', 'notes', /is a directory/, 'invalid_arguments'],
    ['the root itself', '.', /is a directory/, 'invalid_arguments'],
    ['a named pipe', 'pipe', /not a regular file/, 'invalid_arguments'],
    ['a hard link to a file outside the root', 'hard-link.txt', /has 2 hard links.*READ_FILE_ALLOW_HARDLINKS/, 'invalid_arguments'],
    ['a socket', 'socket', /not a regular file/, 'invalid_arguments'],
    ['a binary file', 'binary.bin', /not UTF-8 text/, 'invalid_arguments'],
    ['a missing file', 'notes/missing.md', /no such file/, 'not_found'],
  ]
  for (const [what, path, message, code] of refusals) {
    test(`refuses ${what}`, async () => {
      const result = await stack.client.callTool({ name: 'read_file', arguments: { path } })
      assert.equal(result.isError, true)
      assert.match(textOf(result), message)
      assert.equal(errorMeta(result).code, code)
      assert.doesNotMatch(textOf(result), /outside the root/, 'no content from outside the root')
    })
  }
})

describe('read_file against a path swapped while it reads', () => {
  // A directory of the path swapped back and forth for a symlink out of the root, by another
  // process, while calls read through it: whenever a call opens the file, it must be the one inside.
  test('never returns the file outside the root, over as many calls as 3 s allow (at most 6,000)', async () => {
    const sandbox = await mkdtemp(join(tmpdir(), 'read-file-race-'))
    const root = join(sandbox, 'shared')
    await mkdir(join(root, 'race'), { recursive: true })
    await mkdir(join(sandbox, 'outside'))
    await writeFile(join(root, 'race', 'passwd'), 'inside')
    await writeFile(join(sandbox, 'outside', 'passwd'), 'SECRET outside the root')
    await symlink(join(sandbox, 'outside'), join(root, 'link'))
    const stack = await startInProcessStack({ READ_FILE_ROOT: root })
    const swapper = spawn(process.execPath, ['-e', `
      const { renameSync } = require('node:fs')
      const [root, seconds] = process.argv.slice(1)
      const end = Date.now() + Number(seconds) * 1000
      for (let i = 0; Date.now() < end; i++) {
        renameSync(root + '/race', root + '/real')
        renameSync(root + '/link', root + '/race')
        renameSync(root + '/race', root + '/link')
        renameSync(root + '/real', root + '/race')
      }
    `, root, '3'], { stdio: 'ignore' })
    const swapperDone = once(swapper, 'exit')
    try {
      const outcomes = { inside: 0, escaped: 0, refused: 0 }
      const deadline = Date.now() + 3000
      const reader = async () => {
        for (let calls = 0; calls < 1500 && Date.now() < deadline; calls++) {
          const result = await stack.client.callTool({ name: 'read_file', arguments: { path: 'race/passwd' } })
          const text = textOf(result)
          if (text.includes('SECRET')) outcomes.escaped++
          else if (result.isError) outcomes.refused++
          else outcomes.inside++
        }
      }
      await Promise.all([reader(), reader(), reader(), reader()])
      assert.equal(outcomes.escaped, 0, `no call read the file outside the root (${JSON.stringify(outcomes)})`)
      assert.ok(outcomes.inside > 0 && outcomes.refused > 0, `the swap raced the calls (${JSON.stringify(outcomes)})`)
    } finally {
      swapper.kill()
      await swapperDone
      await stack.close()
      await rm(sandbox, { recursive: true, force: true })
    }
  })
})

describe('read_file when READ_FILE_ROOT is not set', () => {
  test('does not exist', async () => {
    const stack = await startInProcessStack()
    try {
      const { tools } = await stack.client.listTools()
      assert.ok(!tools.some((tool) => tool.name === 'read_file'))
      await assert.rejects(stack.client.callTool({ name: 'read_file', arguments: { path: 'x' } }), /Unknown tool: read_file/)
    } finally {
      await stack.close()
    }
  })

  test('a READ_FILE_ROOT that is not a directory stops start-up', async () => {
    await assert.rejects(
      buildApp({ env: { OPENAI_API_KEY: TEST_API_KEY, LOG_LEVEL: 'silent', READ_FILE_ROOT: '/nonexistent/shared' } }),
      /^ConfigError: Invalid configuration: READ_FILE_ROOT cannot be read \(ENOENT: \/nonexistent\/shared\)$/
    )
  })
})
