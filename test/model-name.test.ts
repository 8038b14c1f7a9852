import assert from 'node:assert/strict'
import { test } from 'node:test'
import { anyModelMatches, comparableModelName, modelGlobs } from '../src/model-name.js'

test('model names compare trimmed, NFKC-normalized and case-folded', () => {
  assert.equal(comparableModelName('o3-pro'), 'o3-pro')
  assert.equal(comparableModelName('O3-Pro'), 'o3-pro')
  assert.equal(comparableModelName('  o3-pro\t'), 'o3-pro')
  assert.equal(comparableModelName('ｏ３－ｐｒｏ'), 'o3-pro', 'full-width letters, digits and hyphen')
  assert.equal(comparableModelName('Ｏ３-PRO '), 'o3-pro')
  assert.equal(comparableModelName('p2/O3-Pro'), 'p2/o3-pro')
})

test('model globs match every spelling of the name they name', () => {
  const deny = modelGlobs(['o3-pro*', 'P2/GPT-5'])
  for (const name of ['o3-pro', 'O3-PRO', ' o3-pro ', 'ｏ３-ｐｒｏ-2025', 'o3-Pro-mini']) assert.ok(anyModelMatches([name], deny), name)
  assert.ok(anyModelMatches(['p2/gpt-5'], deny))
  assert.ok(!anyModelMatches(['o3', 'p1/gpt-5', 'gpt-5'], deny))
  assert.ok(anyModelMatches(['whatever', 'p2/O3-Pro', 'O3-Pro'], deny), 'any of the names')
})
