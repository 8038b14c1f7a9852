import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { ClientConfig } from '../../../src/access/client-config.js'
import { ClientKeys, hashKey } from '../../../src/access/client-keys.js'
import { authenticate } from '../../../src/mcp/http/admission.js'

const TEAM_KEY = 'mor_team-key-0123456789abcdef'
const team: ClientConfig = { name: 'team', keyHashes: [hashKey(TEAM_KEY)], models: undefined, requestsPerMinute: undefined, tokens: {}, usd: {}, operator: false }
const credentials = { clientKeys: new ClientKeys([team]), accessTokens: undefined }

describe('authenticate: a credential to one admission', () => {
  test('a client key admits its client, with no principal', async () => {
    const admission = await authenticate(`Bearer ${TEAM_KEY}`, credentials)
    assert.ok('client' in admission)
    assert.equal(admission.client.name, 'team')
    assert.equal(admission.principal, undefined)
  })

  test('no key, a malformed header, an unknown key: a 401 refusal with its challenge, logged as such', async () => {
    const refusals = await Promise.all([undefined, 'Basic abc', 'Bearer mor_not-one-of-ours'].map(async (authorization) => {
      const admission = await authenticate(authorization, credentials)
      assert.ok('refusal' in admission)
      return admission.refusal
    }))
    assert.deepEqual(refusals.map(({ status, challenge, logLine }) => [status, challenge?.error, logLine]), [
      [401, undefined, 'MCP request refused: no valid client key'],
      [401, 'invalid_request', 'MCP request refused: no valid client key'],
      [401, 'invalid_token', 'MCP request refused: no valid client key'],
    ])
    assert.equal(refusals[0]?.description, 'send your client key as "Authorization: Bearer <key>"')
    assert.equal(refusals[0]?.challenge?.description, refusals[0]?.description, 'the header says what the body says')
  })
})
