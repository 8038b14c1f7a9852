import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

// Run by `npm start` (and `npm test`) before anything else, with Node's own type stripping:
// compiling with tsc takes seconds to tens of seconds, this check a few milliseconds.

/** What the build reads. A directory's own time changes when a file is added or removed in it. */
export const BUILD_INPUTS = ['src', 'plugins', 'routes', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json']
/** What `npm start` runs. tsc rewrites every output on each build, and none when the build fails (noEmitOnError). */
export const BUILD_OUTPUT = 'dist/src/server.js'

function newestChange (path: string): number {
  const stats = statSync(path)
  if (!stats.isDirectory()) return stats.mtimeMs
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestChange(join(path, name))), stats.mtimeMs)
}

/**
 * Why `dist/` needs building, in words for the console: it is missing, or older than one of its
 * sources (an edit, a pull, a checkout); undefined when it is current.
 */
export function whyBuild (root = '.'): string | undefined {
  let built: number
  try {
    built = statSync(join(root, BUILD_OUTPUT)).mtimeMs
  } catch {
    return 'there is no build yet'
  }
  return BUILD_INPUTS.some((input) => newestChange(join(root, input)) > built) ? 'its sources changed since the last build' : undefined
}

const reason = import.meta.main ? whyBuild() : undefined
if (reason !== undefined) {
  process.stderr.write(`mcp-openai-router: building dist/ (${reason})\n`)
  const { status } = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' })
  process.exit(status ?? 1)
}
