/** The text blocks of a tool result, joined. */
export function textOf (result: object): string {
  const { content } = result as { content?: Array<{ text?: string }> }
  return (content ?? []).map((block) => block.text ?? '').join('')
}

/** The machine-readable failure of a tool result (`_meta.error`). */
export function errorMeta (result: object): Record<string, unknown> {
  return (result as { _meta: { error: Record<string, unknown> } })._meta.error
}
