import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { build } from '../support/app.js'
import { TEAM_A_KEY, writeClientsFile } from '../support/client-keys.js'
import { MCP_HEADERS } from '../support/router.js'

const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })

describe('admission before the rate limit', () => {
  test('requests refused for their origin or their key spend no quota, and the limit counts the admitted client', async (t) => {
    // Unlimited team-a aside, every caller (an address too) may send one request a minute.
    const clients = await writeClientsFile({ requestsPerMinute: 1 })
    const app = await build(t, { CLIENT_KEYS_FILE: clients, RATE_LIMIT_RPM: '1', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' })
    const teamA = { ...MCP_HEADERS, authorization: `Bearer ${TEAM_A_KEY}` }
    const post = async (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/mcp', headers, payload: ping })

    // Were the limiter first, it would count these by address, and the second of each would be a 429.
    for (let attempt = 0; attempt < 2; attempt++) {
      assert.equal((await post({ ...teamA, origin: 'https://evil.example' })).statusCode, 403)
      assert.equal((await post({ ...MCP_HEADERS, authorization: 'Bearer mor_not-a-key-of-this-router' })).statusCode, 401)
    }
    const admitted = await post(teamA)
    assert.equal(admitted.statusCode, 200)
    assert.equal(admitted.headers['ratelimit-remaining'], '0', 'the admitted request is the first team-a spends')
    const over = await post(teamA)
    assert.equal(over.statusCode, 429)
    assert.match(over.json<{ error: { message: string } }>().error.message, /client "team-a" may send 1 requests per minute/)
  })
})
