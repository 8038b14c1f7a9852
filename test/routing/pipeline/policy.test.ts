import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type Policy, wrap } from '../../../src/routing/pipeline/policy.js'

interface Call { path: string[] }

/** A policy that notes its name on the way in and out, and hands the next a changed copy of the call. */
function noting (name: string, trail: string[]): Policy<Call> {
  return async (call, next) => {
    trail.push(`${name} in`)
    try {
      return await next({ path: [...call.path, name] })
    } finally {
      trail.push(`${name} out`)
    }
  }
}

describe('wrap', () => {
  test('runs the first policy outermost, each around the next, and the call innermost with the call as the last one changed it', async () => {
    const trail: string[] = []
    const pipeline = wrap(noting('a', trail), noting('b', trail), noting('c', trail))
    const result = await pipeline({ path: [] }, async (call) => {
      trail.push('run')
      return call.path.join('>')
    })
    assert.equal(result, 'a>b>c')
    assert.deepEqual(trail, ['a in', 'b in', 'c in', 'run', 'c out', 'b out', 'a out'])
  })

  test('without policies runs the call as given', async () => {
    assert.equal(await wrap<Call>()({ path: ['x'] }, async (call) => call.path[0]), 'x')
  })

  test('a policy may call next again (a retry) or not at all (a refusal), and what the call throws passes through the policies', async () => {
    let runs = 0
    const twice: Policy<Call> = async (call, next) => {
      try {
        return await next(call)
      } catch {
        return next(call)
      }
    }
    const pipeline = wrap(twice)
    assert.equal(await pipeline({ path: [] }, async () => {
      runs++
      if (runs === 1) throw new Error('first fails')
      return 'second'
    }), 'second')
    const refuse: Policy<Call> = async () => { throw new Error('refused') }
    await assert.rejects(wrap(refuse, twice)({ path: [] }, async () => assert.fail('never runs')), /refused/)
  })
})
