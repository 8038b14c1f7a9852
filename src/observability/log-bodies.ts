import { REDACTED, type RouterKeys } from '../access/router-keys.js'
import { boundedText } from '../bounded-text.js'

export type LogBodies = 'none' | 'truncated' | 'full'

export interface BodyLoggingOptions {
  mode: LogBodies
  maxChars: number
  /** Values that must never reach a log whatever field they hide in: the router's own keys. */
  keys: RouterKeys
}

// Field names that hold credentials. `max_tokens` and token counts are not credentials, so no bare /token/.
const secretKey = /^(authorization|proxy-authorization|cookie|set-cookie|password|passwd|secret|token|bearer)$|api[-_]?key|client[-_]?secret|(access|refresh|id|auth|session|bearer)[-_]?token|private[-_]?key/i

// Credentials pasted into free text: OpenAI-style keys and HTTP bearer credentials.
const secretInText = /\bsk-[\w-]{16,}|\bBearer\s+[\w.~+/-]{8,}=*/g

// Base64 payloads (images) are useless in a log and can be megabytes long.
const base64Payload = /^(data:[\w/+.-]+;base64,)?[A-Za-z0-9+/]{512,}={0,2}$/

// Deeper than any real MCP body; a client may send thousands of levels, which a recursive walk
// would overflow the stack on.
const MAX_DEPTH = 64
const TOO_DEEP = '[nested too deep]'

/**
 * Request arguments and tool results as they may appear in a log line (LOG_BODIES): nothing with
 * `none`; otherwise JSON text with credentials replaced, base64 payloads summarized, and with
 * `truncated` cut to LOG_BODY_MAX_CHARS.
 */
export class BodyLogging {
  readonly #options: BodyLoggingOptions

  constructor (options: BodyLoggingOptions) {
    this.#options = options
  }

  get enabled (): boolean {
    return this.#options.mode !== 'none'
  }

  /**
   * The loggable text of `body`, or `undefined` when bodies are not logged. Never throws: a body
   * that cannot be rendered is logged as such, and the exchange it belongs to goes on.
   */
  render (body: unknown): string | undefined {
    if (!this.enabled || body === undefined) return undefined
    let text: string
    try {
      text = JSON.stringify(this.#clean('', body, 0)) ?? ''
    } catch (err) {
      return `[body not rendered: ${err instanceof Error ? err.message : String(err)}]`
    }
    const { mode, maxChars } = this.#options
    return mode === 'truncated' ? boundedText(text, maxChars) : text
  }

  /** A copy of `value` with credentials and payloads replaced, cut off below {@link MAX_DEPTH}. */
  #clean (key: string, value: unknown, depth: number): unknown {
    if (key && secretKey.test(key) && value !== null && typeof value !== 'object') return REDACTED
    if (typeof value === 'object' && value !== null) {
      if (depth >= MAX_DEPTH) return TOO_DEEP
      if ('toJSON' in value && typeof value.toJSON === 'function') return this.#clean(key, value.toJSON(key), depth)
      if (Array.isArray(value)) return value.map((item, index) => this.#clean(String(index), item, depth + 1))
      return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, this.#clean(name, item, depth + 1)]))
    }
    if (typeof value !== 'string') return value
    if (base64Payload.test(value)) return `[${value.length} characters of base64]`
    return this.#options.keys.redactText(value.replace(secretInText, REDACTED))
  }
}
