import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { FakeOpenAI } from '../../../support/fake-openai.js'
import { errorMeta, textOf } from '../../../support/results.js'
import { bearer, TEAM_A_KEY, TEAM_B_KEY, writeClientsFile } from '../../../support/client-keys.js'
import { connectClient, startRouter, type RunningRouter } from '../../../support/router.js'
import { HEALTH_BOUND_MS, slowestHealthDuring } from '../../../support/health-latency.js'
import { type RouterProcess, startRouterProcess } from '../../../support/router-process.js'

describe('client schemas (response_format.json_schema) on a router process', () => {
  let upstream: FakeOpenAI
  let router: RouterProcess
  let baseUrl: string
  let client: Client

  before(async () => {
    upstream = await FakeOpenAI.start()
    router = await startRouterProcess({ OPENAI_API_KEY: 'sk-schema-test', OPENAI_BASE_URL: upstream.baseURL, READY_CHECK_UPSTREAM: 'false', UPSTREAM_MAX_RETRIES: '0' })
    baseUrl = `http://127.0.0.1:${router.port}`
    client = await connectClient({ mcpUrl: new URL(`${baseUrl}/mcp`) })
  })
  after(async () => {
    await client.close().catch(() => undefined)
    await router.kill()
    await upstream.close()
  })
  beforeEach(() => upstream.reset())

  const answer = (text: string) => upstream.script('POST /v1/responses', { json: upstream.responseBody('gpt-4.1-mini', text) })
  const chat = async (schema: object, timeout = 30_000) => client.callTool({ name: 'chat', arguments: { prompt: 'JSON please', response_format: { type: 'json_schema', name: 'answer', schema } } }, undefined, { timeout })

  test('a pattern that backtracks exponentially (^(a+)+$ against 30 a and a !) is checked in linear time: /health answers as usual', async () => {
    answer(JSON.stringify({ a: `${'a'.repeat(30)}!` }))
    const { result, slowestMs } = await slowestHealthDuring(baseUrl, () => chat({ type: 'object', properties: { a: { type: 'string', pattern: '^(a+)+$' } } }))
    assert.equal(errorMeta(result).code, 'invalid_output')
    assert.match(textOf(result), /a must match pattern "\^\(a\+\)\+\$"/)
    assert.ok(slowestMs < HEALTH_BOUND_MS, `/health took ${slowestMs} ms`)
  })

  test('JavaScript pattern syntax RE2 shares works: Unicode classes, \\u escapes, named groups, code points', async () => {
    answer(JSON.stringify({ city: 'Zürich', accent: 'é', id: 'ab-12', emoji: '😀' }))
    const result = await chat({
      type: 'object',
      properties: {
        city: { type: 'string', pattern: '^\\p{Lu}\\p{Ll}+$' },
        accent: { type: 'string', pattern: '^\\u00e9$' },
        id: { type: 'string', pattern: '^(?<letters>[a-z]+)-\\d{2}$' },
        emoji: { type: 'string', pattern: '^.$' },
      },
      patternProperties: { '^[a-z]+$': { type: 'string' } },
    })
    assert.equal(result.isError, undefined, textOf(result))
  })

  test('a pattern RE2 cannot run (a backreference, a lookahead) is invalid_arguments naming it, before the upstream is called', async () => {
    for (const [pattern, why] of [['^(a)\\1$', /invalid escape sequence: `\\1`/], ['^(?=a)a$', /unsupported Perl syntax: `\(\?=`/], ['^[a-$', /invalid character class range/]] as const) {
      const result = await chat({ type: 'object', properties: { a: { type: 'string', pattern } }, patternProperties: {} })
      assert.equal(errorMeta(result).code, 'invalid_arguments')
      assert.match(textOf(result), new RegExp(`the pattern ${JSON.stringify(pattern).replace(/[\\^$()[\]?=]/g, '\\$&')} cannot run on the router's linear-time regex engine`))
      assert.match(textOf(result), why)
      const asKey = await chat({ type: 'object', patternProperties: { [pattern]: { type: 'string' } } })
      assert.equal(errorMeta(asKey).code, 'invalid_arguments', 'patternProperties are patterns too')
    }
    assert.equal(upstream.received('POST /v1/responses').length, 0)
  })

  test('a schema bomb (3.7 MB: 20,000 properties, each with a pattern and an anyOf) is refused at once, naming the limit it passes: /health answers as usual', async () => {
    const bomb = bombSchema(20_000)
    assert.ok(JSON.stringify(bomb).length > 3_500_000)
    const { result, slowestMs } = await slowestHealthDuring(baseUrl, () => chat(bomb))
    assert.equal(errorMeta(result).code, 'invalid_arguments')
    assert.match(textOf(result), /past what the router compiles \(SCHEMA_MAX_NODES=10000\); simplify it, or ask the operator to raise SCHEMA_MAX_NODES/)
    assert.ok(slowestMs < HEALTH_BOUND_MS, `/health took ${slowestMs} ms`)
    assert.equal(upstream.received('POST /v1/responses').length, 0)
  })

  test('schemas too large, of too many values, or nested too deep, are refused naming SCHEMA_MAX_BYTES, SCHEMA_MAX_NODES and SCHEMA_MAX_DEPTH', async () => {
    const large = await chat({ type: 'object', description: 'x'.repeat(200_000) })
    assert.match(textOf(large), /response_format\.schema is 200\d+ bytes of JSON, past what the router compiles \(SCHEMA_MAX_BYTES=131072\); simplify it, or ask the operator to raise SCHEMA_MAX_BYTES/)
    const manyValues = await chat({ enum: Array.from({ length: 10_001 }, (_, index) => index % 10) })
    assert.match(textOf(manyValues), /has more than 10000 values, past what the router compiles \(SCHEMA_MAX_NODES=10000\)/)
    let deep: object = { type: 'string' }
    for (let level = 0; level < 20; level++) deep = { type: 'object', properties: { next: deep } }
    const tooDeep = await chat(deep)
    assert.equal(errorMeta(tooDeep).code, 'invalid_arguments')
    assert.match(textOf(tooDeep), /objects or arrays nested more than 32 levels deep, past what the router compiles \(SCHEMA_MAX_DEPTH=32\)/)
    assert.equal(upstream.received('POST /v1/responses').length, 0)
  })

  test('the largest schema the limits admit compiles off the main thread: /health answers as usual while it does', async () => {
    // Just under SCHEMA_MAX_BYTES, of the bomb's costly shape: about a second of compiling.
    const heavy = bombSchema(650)
    assert.ok(JSON.stringify(heavy).length < 131_072)
    answer(JSON.stringify({ property_0_with_a_long_name: 'a' }))
    const { result, slowestMs } = await slowestHealthDuring(baseUrl, () => chat(heavy))
    // On a loaded machine its compile may outlast SCHEMA_TIMEOUT_MS: refused then, and said why.
    if (result.isError) assert.match(textOf(result), /SCHEMA_TIMEOUT_MS=2000/)
    assert.ok(slowestMs < HEALTH_BOUND_MS, `/health took ${slowestMs} ms`)
  })
})

/**
 * The bomb, `count` properties each with a pattern and an anyOf: 20,000 make 3.7 MB, which
 * blocked the router 27.8 s.
 */
function bombSchema (count: number) {
  const properties: Record<string, unknown> = {}
  for (let index = 0; index < count; index++) {
    properties[`property_${index}_with_a_long_name`] = { type: 'string', description: `field number ${index}, which the answer must fill in`, pattern: `^[a-z]{1,${index % 50 + 1}}$`, anyOf: [{ minLength: 1 }, { maxLength: 64 }] }
  }
  return { type: 'object', properties }
}

describe('each call\'s schema compiles alone: no $id of one client\'s schema reaches another\'s', () => {
  let upstream: FakeOpenAI
  let router: RunningRouter
  let carol: Client
  let bob: Client

  before(async () => {
    upstream = await FakeOpenAI.start()
    router = await startRouter(upstream, { CLIENT_KEYS_FILE: await writeClientsFile() })
    carol = await connectClient(router, bearer(TEAM_A_KEY))
    bob = await connectClient(router, bearer(TEAM_B_KEY))
  })
  after(async () => {
    await Promise.all([carol.close(), bob.close()])
    await router.close()
    await upstream.close()
  })

  const CAROLS_VALUE = 'carol-only-enum-value'
  const carolsSchema = { $id: 'urn:carol:s', type: 'object', properties: { secret: { enum: [CAROLS_VALUE] } }, required: ['secret'] }
  const chat = async (client: Client, schema: object, answer: object) => {
    // A refused call leaves its scripted answer unused: each call gets its own.
    upstream.reset()
    upstream.script('POST /v1/responses', { json: upstream.responseBody('gpt-4.1-mini', JSON.stringify(answer)) })
    return client.callTool({ name: 'chat', arguments: { prompt: 'JSON please', response_format: { type: 'json_schema', name: 'answer', schema } } })
  }

  test('Bob\'s $ref to Carol\'s $id resolves to nothing (invalid_arguments saying so) and never quotes her values; the same $id in both clients\' different schemas works for each', async () => {
    assert.equal((await chat(carol, carolsSchema, { secret: CAROLS_VALUE })).isError, undefined)

    const reaching = await chat(bob, { $ref: 'urn:carol:s' }, { secret: 'guess' })
    assert.equal(errorMeta(reaching).code, 'invalid_arguments')
    assert.match(textOf(reaching), /\$ref "urn:carol:s" names nothing in this schema; each call's schema stands alone, so put what it refers to under its own \$defs/)
    assert.doesNotMatch(textOf(reaching), new RegExp(CAROLS_VALUE))

    const sameId = { $id: 'urn:carol:s', type: 'object', properties: { mine: { type: 'integer' } }, required: ['mine'] }
    const bobs = await chat(bob, sameId, { mine: 1 })
    assert.equal(bobs.isError, undefined, textOf(bobs))
    const bobsWrong = await chat(bob, sameId, { mine: 'x' })
    assert.match(textOf(bobsWrong), /mine must be integer/, 'Bob\'s answer is checked against his own schema')
    assert.doesNotMatch(textOf(bobsWrong), new RegExp(CAROLS_VALUE))

    const carolsAgain = await chat(carol, carolsSchema, { secret: 'not hers' })
    assert.equal(errorMeta(carolsAgain).code, 'invalid_output', 'Carol\'s schema still holds, unchanged by Bob\'s')
    assert.equal((await chat(carol, carolsSchema, { secret: CAROLS_VALUE })).isError, undefined)
  })

  test('a $ref within the schema itself resolves ($defs, its own $id)', async () => {
    const schema = { $id: 'urn:bob:own', type: 'object', properties: { city: { $ref: '#/$defs/city' }, again: { $ref: 'urn:bob:own#/$defs/city' } }, $defs: { city: { type: 'string', minLength: 2 } } }
    assert.equal((await chat(bob, schema, { city: 'Paris', again: 'Lyon' })).isError, undefined)
    assert.match(textOf(await chat(bob, schema, { city: 'P' })), /city must NOT have fewer than 2 characters/)
  })
})

describe('schema compiles are bounded in time and memory', () => {
  test('a compile past SCHEMA_TIMEOUT_MS is refused naming it, and the next schema compiles in a new worker', async () => {
    const upstream = await FakeOpenAI.start()
    // A slow schema, well past its limit however fast the machine, and a limit a simple schema's
    // compile in a fresh worker stays within however loaded the machine is.
    const router = await startRouter(upstream, { SCHEMA_TIMEOUT_MS: '400', SCHEMA_MAX_NODES: '50000', SCHEMA_MAX_BYTES: '1000000' })
    const client = await connectClient(router)
    try {
      const call = async (schema: object) => client.callTool({ name: 'chat', arguments: { prompt: 'JSON please', response_format: { type: 'json_schema', name: 'answer', schema } } })
      const slow = await call(bombSchema(2000))
      assert.equal(errorMeta(slow).code, 'invalid_arguments')
      assert.match(textOf(slow), /response_format\.schema took longer than the router allows \(SCHEMA_TIMEOUT_MS=400\) to compile, or to check the answer against; simplify it\./)
      upstream.script('POST /v1/responses', { json: upstream.responseBody('gpt-4.1-mini', '{"city":"Paris"}') })
      const next = await call({ type: 'object', properties: { city: { type: 'string' } } })
      assert.equal(next.isError, undefined, textOf(next))
    } finally {
      await client.close()
      await router.close()
      await upstream.close()
    }
  })
})

describe('the schema checker\'s queue is shared fairly: no client can hold back another\'s checks', () => {
  test('client B\'s one structured-output chat is answered while client A has its SCHEMA_MAX_JOBS_PER_CLIENT slow compiles in flight; A\'s next is refused at once naming the setting', async () => {
    const upstream = await FakeOpenAI.start()
    // Every chat answers {}, which every schema here admits (no property is required).
    upstream.script('POST /v1/responses', ...Array.from({ length: 10 }, () => ({ json: upstream.responseBody('gpt-4.1-mini', '{}') })))
    const router = await startRouter(upstream, { CLIENT_KEYS_FILE: await writeClientsFile(), SCHEMA_MAX_JOBS_PER_CLIENT: '4', SCHEMA_TIMEOUT_MS: '60000' })
    const [alice, bob] = await Promise.all([
      connectClient(router, bearer(TEAM_A_KEY)),
      connectClient(router, bearer(TEAM_B_KEY)),
    ])
    try {
      const call = async (client: Client, schema: object) => client.callTool({ name: 'chat', arguments: { prompt: 'JSON please', response_format: { type: 'json_schema', name: 'answer', schema } } }, undefined, { timeout: 120_000 })
      // Each of A's schemas is its own (a compile each, no cache hit) and takes a while to compile.
      const pending = new Set<number>()
      const alices = Array.from({ length: 5 }, (_, index) => {
        pending.add(index)
        return call(alice, { ...bombSchema(400), title: `alice-${index}` }).finally(() => pending.delete(index))
      })
      const first = await Promise.race(alices)
      assert.equal(errorMeta(first).code, 'rate_limited', textOf(first))
      assert.equal(errorMeta(first).retryable, true)
      assert.match(textOf(first), /already has 4 schema checks queued or running \(SCHEMA_MAX_JOBS_PER_CLIENT=4\)/)
      assert.equal(pending.size, 4, 'the refusal came at once, before any of A\'s admitted calls ended')

      const bobs = await call(bob, { type: 'object', properties: { city: { type: 'string' } } })
      assert.equal(bobs.isError, undefined, textOf(bobs))
      assert.ok(pending.size > 0, 'B was answered while A still had calls waiting on the schema checker')

      const results = await Promise.all(alices)
      assert.equal(results.filter((result) => result.isError === undefined).length, 4, 'A\'s admitted calls are all answered')
    } finally {
      await Promise.all([alice.close(), bob.close()])
      await router.close()
      await upstream.close()
    }
  })
})

describe('on an open router, each address has its own share of the schema checker', () => {
  test('an address at SCHEMA_MAX_JOBS_PER_CLIENT is refused; a call from another address is admitted meanwhile', async () => {
    const upstream = await FakeOpenAI.start()
    upstream.script('POST /v1/responses', ...Array.from({ length: 4 }, () => ({ json: upstream.responseBody('gpt-4.1-mini', '{}') })))
    const router = await startRouter(upstream, { TRUST_PROXY: 'loopback', SCHEMA_MAX_JOBS_PER_CLIENT: '1', SCHEMA_TIMEOUT_MS: '60000' })
    const from = (address: string) => connectClient(router, { headers: { 'x-forwarded-for': address } })
    const [first, second] = await Promise.all([from('198.51.100.1'), from('198.51.100.2')])
    try {
      const call = async (client: Client, schema: object) => client.callTool({ name: 'chat', arguments: { prompt: 'JSON please', response_format: { type: 'json_schema', name: 'answer', schema } } }, undefined, { timeout: 120_000 })
      // Two slow compiles from the first address, whichever arrives first: one is its share, the other refused.
      const [one, two, other] = await Promise.all([
        call(first, { ...bombSchema(300), title: 'first-one' }),
        call(first, { ...bombSchema(300), title: 'first-two' }),
        call(second, { type: 'object', properties: { city: { type: 'string' } } }),
      ])
      const refused = [one, two].filter((result) => result.isError === true)
      assert.equal(refused.length, 1, [one, two].map(textOf).join(' | '))
      for (const result of refused) {
        assert.equal(errorMeta(result).code, 'rate_limited')
        assert.match(textOf(result), /SCHEMA_MAX_JOBS_PER_CLIENT=1/)
      }
      assert.equal(other.isError, undefined, textOf(other))
    } finally {
      await Promise.all([first.close(), second.close()])
      await router.close()
      await upstream.close()
    }
  })
})
