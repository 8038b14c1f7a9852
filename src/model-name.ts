import { type Glob, matchesAny, toGlob } from './glob.js'

/**
 * A model name as allow and deny lists compare it: Unicode NFKC (full-width letters become their
 * ASCII forms), trimmed, case-folded. `" Ｏ３-Pro"` and `o3-pro` are one name to a list: an
 * upstream that is lenient about case or spaces would otherwise serve a model a list excludes.
 */
export function comparableModelName (name: string): string {
  return name.normalize('NFKC').trim().toLowerCase()
}

/** Model-name globs compiled to match names compared as {@link comparableModelName} does. */
export function modelGlobs (globs: readonly string[]): Glob[] {
  return globs.map((glob) => toGlob(comparableModelName(glob)))
}

/** Whether any of `names` (as given: requested, `provider/model`, bare id) matches any of the model globs. */
export function anyModelMatches (names: readonly string[], globs: Glob[]): boolean {
  return names.some((name) => matchesAny(comparableModelName(name), globs))
}
