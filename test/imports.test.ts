import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Every TypeScript file under `folder`, by its path from the repository's root. */
function sourcesIn (folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(folder, file))
}

/** The project files a file imports (relative imports only), by their paths from the repository's root. */
function importsOf (file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8')
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)]
    .map(([, specifier]) => normalize(join(dirname(file), specifier as string)).replace(/\.js$/, '.ts'))
    .filter((target) => target.endsWith('.ts'))
}

const files = [...sourcesIn('src'), ...sourcesIn('plugins'), ...sourcesIn('routes')]
const graph = new Map(files.map((file) => [file, importsOf(file)]))

/** A path of edges from `from` back to `to` in `edges`, if there is one. */
function pathBetween (edges: Map<string, Iterable<string>>, from: string, to: string): string[] | undefined {
  const pending: string[][] = [[from]]
  const seen = new Set([from])
  for (let path = pending.shift(); path; path = pending.shift()) {
    const last = path[path.length - 1] as string
    for (const next of edges.get(last) ?? []) {
      if (next === to) return [...path, next]
      if (!seen.has(next)) {
        seen.add(next)
        pending.push([...path, next])
      }
    }
  }
  return undefined
}

test('no two source files import each other, directly or round a loop', () => {
  for (const [file, targets] of graph) {
    for (const target of targets) {
      const back = pathBetween(graph, target, file)
      assert.equal(back, undefined, `${file} imports ${target}, which imports it back: ${back?.join(' -> ')}`)
    }
  }
})

test('src/ imports nothing from plugins/ or routes/, except app.ts, which builds the app from them', () => {
  for (const [file, targets] of graph) {
    if (!file.startsWith('src/') || file === 'src/app.ts') continue
    const upward = targets.filter((target) => target.startsWith('plugins/') || target.startsWith('routes/'))
    assert.deepEqual(upward, [], `${file} imports ${upward.join(', ')}`)
  }
})

test('the folders of src/ import one way: no folder imports one that imports it back', () => {
  const folderOf = (file: string) => relative('src', dirname(file)).split('/')[0] || file
  const folders = new Map<string, Set<string>>()
  for (const [file, targets] of graph) {
    if (!file.startsWith('src/')) continue
    const from = folderOf(file)
    for (const target of targets) {
      const to = folderOf(target)
      if (to !== from) folders.set(from, (folders.get(from) ?? new Set()).add(to))
    }
  }
  for (const [from, targets] of folders) {
    for (const to of targets) {
      const back = pathBetween(folders, to, from)
      assert.equal(back, undefined, `src/${from} imports src/${to}, which imports it back: ${back?.join(' -> ')}`)
    }
  }
  assert.ok(folders.get('routing')?.has('upstream'), 'the graph was read (src/routing imports src/upstream)')
})
