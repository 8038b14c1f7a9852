import { Type } from '@sinclair/typebox'

/**
 * A string from a fixed list, as a plain JSON Schema `enum`: validators then report
 * "must be one of: a, b" instead of one failed `const` per member of a union.
 */
export function StringEnum<const T extends readonly string[]> (
  values: T,
  options: { default?: T[number], description?: string } = {}
) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })
}

/**
 * Any JSON value, said explicitly: a node with no type at all reads as an unfinished schema to
 * strict validators (the MCP Inspector's --strict mode). Alternatives rather than a list of types,
 * which Ajv's default strict mode (the router's, many clients') warns about.
 */
export function JsonValue (options: { description?: string } = {}) {
  const types = ['object', 'array', 'string', 'number', 'boolean', 'null'] as const
  return Type.Unsafe<unknown>({ anyOf: types.map((type) => ({ type })), ...options })
}
