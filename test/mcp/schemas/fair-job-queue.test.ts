import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { FairJobQueue } from '../../../src/mcp/schemas/fair-job-queue.js'

/** Takes every waiting job, each done at once, and says whose it was. */
function takeAll (queue: FairJobQueue<string>): string[] {
  const taken: string[] = []
  for (let next = queue.take(); next; next = queue.take()) {
    taken.push(next.job)
    queue.done(next.owner)
  }
  return taken
}

describe('FairJobQueue (the schema checker\'s queue)', () => {
  test('jobs are taken round-robin across owners: one owner\'s many jobs delay another\'s one by at most one of its own', () => {
    const queue = new FairJobQueue<string>({ maxPerOwner: 10, maxQueued: 100 })
    for (const job of ['a1', 'a2', 'a3', 'a4']) queue.add('a', job)
    queue.add('b', 'b1')
    queue.add('c', 'c1')
    queue.add('c', 'c2')
    assert.deepEqual(takeAll(queue), ['a1', 'b1', 'c1', 'a2', 'c2', 'a3', 'a4'])
  })

  test('an owner served goes behind one that queued while its job ran', () => {
    const queue = new FairJobQueue<string>({ maxPerOwner: 10, maxQueued: 100 })
    queue.add('a', 'a1')
    queue.add('a', 'a2')
    const first = queue.take()
    assert.equal(first?.job, 'a1')
    queue.add('b', 'b1')
    queue.add('a', 'a3')
    assert.deepEqual(takeAll(queue), ['a2', 'b1', 'a3'])
  })

  test('an owner holds at most maxPerOwner jobs waiting or running; a job done frees its place', () => {
    const queue = new FairJobQueue<string>({ maxPerOwner: 2, maxQueued: 100 })
    assert.equal(queue.add('a', 'a1'), undefined)
    const running = queue.take()
    assert.equal(queue.add('a', 'a2'), undefined)
    assert.equal(queue.add('a', 'a3'), 'owner_limit', 'one running and one waiting are its two')
    assert.equal(queue.add('b', 'b1'), undefined, 'another owner has its own share')
    assert.ok(running)
    queue.done(running.owner)
    assert.equal(queue.add('a', 'a3'), undefined)
    assert.deepEqual(takeAll(queue), ['a2', 'b1', 'a3'])
  })

  test('at most maxQueued jobs wait in all, whoever they are of; the refused job is not queued', () => {
    const queue = new FairJobQueue<string>({ maxPerOwner: 2, maxQueued: 3 })
    queue.add('a', 'a1')
    queue.add('b', 'b1')
    queue.add('c', 'c1')
    assert.equal(queue.add('d', 'd1'), 'queue_full')
    assert.equal(queue.size, 3)
    queue.take()
    assert.equal(queue.add('d', 'd1'), undefined, 'a running job does not count against maxQueued')
    assert.deepEqual(takeAll(queue), ['b1', 'c1', 'd1'])
  })

  test('drain takes out every waiting job, and the queue starts empty again', () => {
    const queue = new FairJobQueue<string>({ maxPerOwner: 5, maxQueued: 5 })
    queue.add('a', 'a1')
    queue.add('b', 'b1')
    queue.add('a', 'a2')
    assert.deepEqual(queue.drain().sort(), ['a1', 'a2', 'b1'])
    assert.equal(queue.size, 0)
    assert.equal(queue.take(), undefined)
  })
})
