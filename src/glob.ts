/** A glob (`*` any run of characters, `?` one) as the test of a name. */
export interface Glob {
  test: (name: string) => boolean
}

/**
 * A glob, matched without a regular expression: the names it meets are the clients' (a model
 * name, a use_tools entry is a glob itself), and a backtracking RegExp for `*a*b` ran for
 * seconds over a long name. This matcher returns to the last `*` only, so its time grows with
 * the name's length times the glob's at worst.
 */
export function toGlob (glob: string): Glob {
  return { test: (name) => globMatches(glob, name) }
}

function globMatches (glob: string, name: string): boolean {
  let g = 0
  let n = 0
  // Where the last `*` was, and where in the name its run of characters ends for now.
  let star = -1
  let starEnd = 0
  while (n < name.length) {
    const char = glob[g]
    if (char === '*') {
      star = g++
      starEnd = n
    } else if (char !== undefined && (char === '?' || char === name[n])) {
      g++
      n++
    } else if (star >= 0) {
      g = star + 1
      n = ++starEnd
    } else {
      return false
    }
  }
  while (glob[g] === '*') g++
  return g === glob.length
}

/** Whether `name` matches any of the globs. */
export function matchesAny (name: string, globs: Glob[]): boolean {
  return globs.some((glob) => glob.test(name))
}
