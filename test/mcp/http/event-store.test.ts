import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import { pino } from 'pino'
import { MAX_EVENTS_PER_STREAM, MemoryEventLog, RedisEventLog } from '../../../src/mcp/http/event-store.js'
import { SharedRedis } from '../../../src/shared-state/shared-redis.js'
import { REDIS_TEST_COMMAND_TIMEOUT_MS, RedisServer, skipWithoutRedis } from '../../support/redis.js'
import { waitFor } from '../../support/wait-for.js'

const progress = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: n } })
const response: JSONRPCMessage = { jsonrpc: '2.0', id: 1, result: { content: [] } }

async function replay (store: MemoryEventLog | RedisEventLog, lastEventId: string) {
  const sent: Array<[string, JSONRPCMessage]> = []
  const streamId = await store.replayEventsAfter(lastEventId, {
    send: async (id, message) => { sent.push([id, message]) },
  })
  return { streamId, sent }
}

describe('session event stores', () => {
  test('memory: replays a stream\'s events after the given id, never the priming event, never another stream\'s', async () => {
    const store = new MemoryEventLog(60_000)
    const priming = await store.storeEvent('s1', {} as JSONRPCMessage)
    const first = await store.storeEvent('s1', progress(1))
    await store.storeEvent('s2', progress(99))
    const second = await store.storeEvent('s1', progress(2))
    assert.equal(await store.getStreamIdForEventId(first), 's1')
    assert.deepEqual(await replay(store, priming), { streamId: 's1', sent: [[first, progress(1)], [second, progress(2)]] })
    assert.deepEqual((await replay(store, first)).sent, [[second, progress(2)]])
  })

  test('memory: a stream silent past the TTL is gone, and a stream keeps only its latest events', async () => {
    let now = 0
    const store = new MemoryEventLog(1000, () => now)
    const old = await store.storeEvent('old', progress(1))
    now = 2000
    const first = await store.storeEvent('long', progress(0))
    for (let n = 1; n <= MAX_EVENTS_PER_STREAM; n++) await store.storeEvent('long', progress(n))
    await assert.rejects(replay(store, old), /stream old has expired/)
    const { sent } = await replay(store, first)
    assert.equal(sent.length, MAX_EVENTS_PER_STREAM)
    assert.deepEqual(sent.at(-1)?.[1], progress(MAX_EVENTS_PER_STREAM))
  })

  test('an event id the router never gave is refused', async () => {
    const store = new MemoryEventLog(1000)
    assert.equal(await store.getStreamIdForEventId('no-dot'), undefined)
    await assert.rejects(replay(store, 'no-dot'), /not an event id this router gave/)
  })

  describe('redis', { skip: skipWithoutRedis }, () => {
    let redis: RedisServer
    const clients: SharedRedis[] = []
    const shared = async () => {
      const client = new SharedRedis(redis.url, 'events-test:', pino({ level: 'silent' }), REDIS_TEST_COMMAND_TIMEOUT_MS)
      await client.connect()
      clients.push(client)
      return client
    }

    before(async () => { redis = await RedisServer.start() })
    after(async () => {
      await Promise.all(clients.map((client) => client.close()))
      await redis.stop()
    })

    test('one replica replays what another stored, and follows the stream until its response', async () => {
      const writer = new RedisEventLog(await shared(), 'session-1', 60_000)
      const reader = new RedisEventLog(await shared(), 'session-1', 60_000)
      const priming = await writer.storeEvent('call', {} as JSONRPCMessage)
      await writer.storeEvent('call', progress(1))
      const sent: JSONRPCMessage[] = []
      const done = new Promise<void>((resolve) => {
        reader.replayEventsAfter(priming, {
          send: async (_id, message) => {
            sent.push(message)
            if ('result' in message) resolve()
          },
        })
      })
      await writer.storeEvent('call', progress(2))
      await writer.storeEvent('call', response)
      await done
      assert.deepEqual(sent, [progress(1), progress(2), response])
      reader.close()
      writer.close()
    })

    test('a GET stream from another replica is replayed, not followed: the session\'s new replica sends its own messages', async () => {
      const writer = new RedisEventLog(await shared(), 'session-get', 60_000)
      const reader = new RedisEventLog(await shared(), 'session-get', 60_000)
      const first = await writer.storeEvent('_GET_stream', progress(1))
      await writer.storeEvent('_GET_stream', progress(2))
      const sent: JSONRPCMessage[] = []
      await reader.replayEventsAfter(first, { send: async (_id, message) => { sent.push(message) } })
      await writer.storeEvent('_GET_stream', progress(3))
      await new Promise((resolve) => setTimeout(resolve, 200))
      assert.deepEqual(sent, [progress(2)])
      reader.close()
      writer.close()
    })

    test('another session\'s store cannot replay the stream; a stream past its TTL is refused', async () => {
      const redisOfWriter = await shared()
      const writer = new RedisEventLog(redisOfWriter, 'session-2', 1000)
      const first = await writer.storeEvent('call', progress(1))
      await writer.storeEvent('call', response)
      await assert.rejects(replay(new RedisEventLog(await shared(), 'other-session', 1000), first), /has expired/)
      await assert.rejects(replay(writer, 'call.((bad'), /not an event id this router gave/)
      assert.deepEqual((await replay(writer, first)).sent.map(([, message]) => message), [response])
      // Redis expires the stream on its own clock (the PEXPIRE the store set): waited for, not guessed.
      const key = redisOfWriter.key('events', 'session-2', 'call')
      await waitFor(async () => await redisOfWriter.client.exists(key) === 0, 'Redis to expire the stream')
      await assert.rejects(replay(writer, first), /has expired/)
    })

    test('while Redis is away events are kept in this process and replay here', async () => {
      const store = new RedisEventLog(await shared(), 'session-3', 60_000)
      await redis.stop()
      try {
        const first = await store.storeEvent('call', progress(1))
        await store.storeEvent('call', response)
        assert.match(first, /^call\.m\d+$/)
        assert.deepEqual((await replay(store, first)).sent.map(([, message]) => message), [response])
      } finally {
        await redis.start()
      }
    })
  })
})
