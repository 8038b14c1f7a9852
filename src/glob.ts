/** A glob (`*` any run of characters, `?` one) as an anchored regular expression. */
export function globToRegExp (glob: string): RegExp {
  const pattern = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')
  return new RegExp(`^${pattern}$`)
}

/** Whether `name` matches any of the globs. */
export function matchesAny (name: string, globs: RegExp[]): boolean {
  return globs.some((glob) => glob.test(name))
}
