import type { Options } from 'ajv'
import { RE2JS } from 're2js'
import { boundedText } from '../../bounded-text.js'

type RegExpEngine = NonNullable<NonNullable<Options['code']>['regExp']>

/** How much of a refused pattern its refusal quotes. */
const QUOTED_PATTERN_CHARS = 100

/** A client's pattern the linear-time engine cannot run (a backreference, a lookaround, a syntax error). */
export class UnsupportedPatternError extends Error {}

/**
 * Ajv's `code.regExp`: a client's `pattern` and `patternProperties` run on RE2 (re2js, a pure
 * JavaScript port), whose matching time grows linearly with the text, never exponentially as a
 * backtracking engine's can (`^(a+)+$`). Patterns are translated from JavaScript syntax first
 * (`\u00e9`, `(?<name>…)`); RE2 always matches by code point, as the `u` flag Ajv passes asks.
 * See docs/configuration.md (Structured output) for what RE2 cannot run.
 */
export const linearRegExp: RegExpEngine = Object.assign((pattern: string) => {
  let compiled: RE2JS
  try {
    compiled = RE2JS.compile(RE2JS.translateRegExp(pattern))
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : String(err)
    throw new UnsupportedPatternError(`the pattern ${JSON.stringify(boundedText(pattern, QUOTED_PATTERN_CHARS))} cannot run on the router's linear-time regex engine (RE2 syntax: no backreferences, lookahead or lookbehind): ${reason}`)
  }
  // Ajv keys the patterns of one schema by their text: one entry per pattern, not one for all.
  return { test: (text: string) => compiled.test(text), toString: () => pattern }
}, {
  // What standalone code (which the router does not generate) would call the engine by.
  code: 'linearRegExp',
})
