import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseTrustProxy } from '../src/trust-proxy.js'

describe('parseTrustProxy (TRUST_PROXY)', () => {
  test('false, empty and true', () => {
    assert.equal(parseTrustProxy(''), false)
    assert.equal(parseTrustProxy('false'), false)
    assert.equal(parseTrustProxy(' true '), true)
  })

  test('addresses, CIDR ranges and range names, trimmed, as one list', () => {
    assert.equal(parseTrustProxy('10.244.0.0/16, 192.168.1.7 ,fd00::/8,loopback'), '10.244.0.0/16,192.168.1.7,fd00::/8,loopback')
  })

  test('anything else is refused, hop counts included', () => {
    for (const value of ['1', 'yes', '10.0.0.300', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/8/1', '10.0.0.0/x', 'loopback,proxy.internal']) {
      assert.equal(parseTrustProxy(value), undefined, value)
    }
  })
})
