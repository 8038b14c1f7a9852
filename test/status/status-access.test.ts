import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ClientKeys, hashKey } from '../../src/access/client-keys.js'
import type { ClientConfig } from '../../src/access/client-config.js'
import { SESSION_TTL_MS, StatusAccess } from '../../src/status/status-access.js'

const OPS_KEY = 'mor_ops-key-0123456789abcdef'
const METRICS_TOKEN = 'metrics-scraper-token-0123456789'
const ops = (operator: boolean): ClientConfig => ({ name: 'ops', keyHashes: [hashKey(OPS_KEY)], models: undefined, requestsPerMinute: undefined, tokens: {}, usd: {}, operator })

describe('status page access', () => {
  test('a session lasts SESSION_TTL_MS, then the browser signs in again', async () => {
    let now = 1_000_000
    const access = new StatusAccess({
      metricsToken: METRICS_TOKEN,
      clientKeys: new ClientKeys([ops(true)]),
      accessTokens: undefined,
      statusScope: undefined,
      now: () => now,
    })
    const viewer = await access.authenticate(METRICS_TOKEN)
    assert.deepEqual(viewer, { kind: 'metrics_token' })
    const cookie = access.session(viewer as { kind: 'metrics_token' })
    assert.deepEqual(access.resume(cookie), { kind: 'metrics_token' })
    now += SESSION_TTL_MS
    assert.equal(access.resume(cookie), undefined)
  })

  test('sessions signed with METRICS_TOKEN pass at every replica holding it, and at no other', () => {
    const options = { clientKeys: new ClientKeys([ops(true)]), accessTokens: undefined, statusScope: undefined }
    const cookie = new StatusAccess({ ...options, metricsToken: METRICS_TOKEN }).session({ kind: 'metrics_token' })
    assert.deepEqual(new StatusAccess({ ...options, metricsToken: METRICS_TOKEN }).resume(cookie), { kind: 'metrics_token' })
    assert.equal(new StatusAccess({ ...options, metricsToken: `${METRICS_TOKEN}-rotated` }).resume(cookie), undefined)
    assert.equal(new StatusAccess({ ...options, metricsToken: undefined }).resume(cookie), undefined)
  })

  test('an operator\'s session ends when a reload takes operator: true away', async () => {
    const keys = new ClientKeys([ops(true)])
    const access = new StatusAccess({
      metricsToken: undefined,
      clientKeys: keys,
      accessTokens: undefined,
      statusScope: undefined,
    })
    const viewer = await access.authenticate(OPS_KEY)
    assert.deepEqual(viewer, { kind: 'operator', client: 'ops' })
    const cookie = access.session(viewer as { kind: 'operator', client: string })
    keys.replace([ops(false), { ...ops(true), name: 'ops-2', keyHashes: [hashKey(`${OPS_KEY}-2`)] }])
    assert.equal(access.resume(cookie), undefined)
    assert.deepEqual(await access.authenticate(OPS_KEY), { status: 403, reason: 'client "ops" is not an operator (operator: true in CLIENT_KEYS_FILE)' })
    keys.replace([ops(false)])
    assert.match((await access.authenticate(OPS_KEY) as { reason: string }).reason, /no credential may read the status page: set METRICS_TOKEN, mark a client as operator: true, or set OAUTH_STATUS_SCOPE/, 'with no operator left the page is closed')
  })
})
