import assert from 'node:assert/strict'
import { validateHeaderValue } from 'node:http'
import { describe, test } from 'node:test'
import { wwwAuthenticate } from '../../src/access/bearer-challenge.js'

describe('the Bearer challenge (WWW-Authenticate)', () => {
  test('names the realm, the resource metadata, the error, its description and the scope missing', () => {
    assert.equal(
      wwwAuthenticate({ error: 'insufficient_scope', description: 'the tool generate_image needs the scope mcp:images', scope: 'mcp:images' }, 'https://router.example/.well-known/oauth-protected-resource/mcp'),
      'Bearer realm="mcp-openai-router", resource_metadata="https://router.example/.well-known/oauth-protected-resource/mcp", error="insufficient_scope", error_description="the tool generate_image needs the scope mcp:images", scope="mcp:images"'
    )
    assert.equal(wwwAuthenticate({ error: undefined, description: 'send your client key' }, undefined), 'Bearer realm="mcp-openai-router"')
  })

  test('quotes a description as an HTTP quoted-string: \\ and " escaped, control and non-ASCII characters made spaces', () => {
    const header = wwwAuthenticate({ error: 'invalid_token', description: 'claim "sub" is C:\\team\r\nX-Injected: 1\tñ' }, undefined)
    assert.equal(header, 'Bearer realm="mcp-openai-router", error="invalid_token", error_description="claim \\"sub\\" is C:\\\\team  X-Injected: 1  "')
    assert.doesNotThrow(() => validateHeaderValue('www-authenticate', header), 'Node sends it as a header')
  })
})
