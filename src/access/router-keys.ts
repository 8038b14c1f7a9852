export const REDACTED = '[redacted]'

// A very short "key" would redact ordinary words; real keys are long.
const MIN_KEY_LENGTH = 8

/**
 * The credentials the router itself holds (its upstream keys, its downstream MCP tokens), as
 * configured now: they change on reload, so they are asked for at each use. No text an upstream
 * or a downstream server wrote leaves the router with one of them in it, neither in an answer to
 * a client nor in a log line: this is the one list both go by.
 */
export class RouterKeys {
  constructor (private readonly current: () => Iterable<string>) {}

  /** The keys worth looking for now. */
  get keys (): string[] {
    return [...this.current()].filter((key) => key.length >= MIN_KEY_LENGTH)
  }

  /** `text` with every key replaced by {@link REDACTED}. */
  redactText (text: string, keys: readonly string[] = this.keys): string {
    for (const key of keys) {
      if (text.includes(key)) text = text.replaceAll(key, REDACTED)
    }
    return text
  }

  /**
   * `value` (a JSON-RPC message) with every key removed from its strings. Nothing is copied when
   * no string holds one, the usual case: `value` itself comes back.
   */
  redact<T> (value: T): T {
    const keys = this.keys
    return keys.length === 0 ? value : redactStrings(value, (text) => this.redactText(text, keys)) as T
  }

  /**
   * How many characters at the end of `text` could be the start of a key: streamed text keeps
   * them back until what follows shows whether a key is being spelled out across two pieces.
   */
  partialKeyLength (text: string): number {
    let longest = 0
    for (const key of this.keys) {
      for (let length = Math.min(key.length - 1, text.length); length > longest; length--) {
        if (text.endsWith(key.slice(0, length))) {
          longest = length
          break
        }
      }
    }
    return longest
  }
}

function redactStrings (value: unknown, redactText: (text: string) => string): unknown {
  if (typeof value === 'string') return redactText(value)
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    value.forEach((item: unknown, index) => {
      const clean = redactStrings(item, redactText)
      if (clean !== item) (copy ??= [...value])[index] = clean
    })
    return copy ?? value
  }
  let copy: Record<string, unknown> | undefined
  for (const [name, item] of Object.entries(value)) {
    const clean = redactStrings(item, redactText)
    if (clean !== item) (copy ??= { ...value })[name] = clean
  }
  return copy ?? value
}
