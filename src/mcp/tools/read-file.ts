import { constants } from 'node:fs'
import { type FileHandle, open, readlink, realpath } from 'node:fs/promises'
import { isAbsolute, relative, resolve, sep } from 'node:path'
import { Type } from '@sinclair/typebox'
import { ToolError } from '../../errors.js'
import { defineTool } from '../tool.js'

/** The directory read_file shares, and its limits. */
export interface ReadFileSettings {
  /** READ_FILE_ROOT. */
  root: string
  /** The most bytes one call returns (READ_FILE_MAX_BYTES). */
  maxBytes: number
  /** Whether files with more than one hard link may be read (READ_FILE_ALLOW_HARDLINKS). */
  allowHardlinks: boolean
}

/**
 * Reads a text file under READ_FILE_ROOT. The tool exists only when that is set. Every way out
 * of the root is refused: absolute paths, `..`, symlinks that resolve outside it (even when they
 * are swapped in while the call runs), and, unless READ_FILE_ALLOW_HARDLINKS, files with more
 * than one name (a hard link in the root to a file outside it).
 */
export const readFileTool = defineTool({
  name: 'read_file',
  title: 'Read a file',
  description: 'Reads a UTF-8 text file from the directory the router operator shared (READ_FILE_ROOT). Give a path relative to that directory; at most `max_bytes` are returned.',
  inputSchema: Type.Object({
    path: Type.String({ minLength: 1, maxLength: 4096, description: 'Path relative to the shared directory, e.g. "notes/todo.md".' }),
    max_bytes: Type.Optional(Type.Integer({ minimum: 1, description: 'Read at most this many bytes (capped at READ_FILE_MAX_BYTES).' })),
  }, { additionalProperties: false }),
  outputSchema: Type.Object({
    path: Type.String(),
    text: Type.String(),
    size: Type.Integer({ description: 'The file size in bytes.' }),
    truncated: Type.Boolean({ description: 'Whether the file is longer than what was read.' }),
  }),
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  handler: ({ root, maxBytes: limitBytes, allowHardlinks }: ReadFileSettings) => async (args) => {
    const { path, max_bytes: askedBytes } = args
    if (isAbsolute(path) || /^[a-zA-Z]:/.test(path)) throw refused(path, 'give a path relative to the shared directory, not an absolute one')
    if (path.split(/[\\/]/).includes('..')) throw refused(path, '".." is not allowed; give a path inside the shared directory')
    const realRoot = await realpath(root)
    let target: string
    try {
      target = await realpath(resolve(realRoot, path))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw refused(path, 'no such file', 'not_found')
      throw refused(path, 'it cannot be opened')
    }
    // Refused here without opening anything outside; the check that holds against a race comes after the open.
    checkInside(path, realRoot, target)
    // O_NONBLOCK: opening a FIFO must not wait for a writer. The type is checked on the opened file, not the path.
    const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK
    const file = await open(target, flags).catch((err: unknown) => {
      // A socket cannot be opened at all (ENXIO); a file removed meanwhile is simply gone.
      const code = (err as NodeJS.ErrnoException).code
      throw code === 'ENOENT' ? refused(path, 'no such file', 'not_found') : refused(path, code === 'ENXIO' ? 'it is not a regular file (a device, socket or pipe)' : 'it cannot be opened')
    })
    try {
      checkInside(path, realRoot, await openedPath(file))
      const stats = await file.stat()
      if (stats.isDirectory()) throw refused(path, 'it is a directory')
      if (!stats.isFile()) throw refused(path, 'it is not a regular file (a device, socket or pipe)')
      if (stats.nlink > 1 && !allowHardlinks) {
        throw refused(path, `it has ${stats.nlink} hard links, and another of its names may be outside the shared directory (READ_FILE_ALLOW_HARDLINKS)`)
      }
      const limit = Math.min(askedBytes ?? limitBytes, limitBytes)
      const buffer = Buffer.alloc(Math.min(limit, stats.size))
      const { bytesRead } = await file.read(buffer, 0, buffer.length, 0)
      let text: string
      try {
        // `stream` holds back a character cut in half at the limit instead of calling it invalid.
        text = new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, bytesRead), { stream: true })
      } catch {
        throw refused(path, 'it is not UTF-8 text')
      }
      const truncated = stats.size > bytesRead
      const note = truncated ? `\n\n[read ${bytesRead} of ${stats.size} bytes; ask for more with max_bytes, up to ${limitBytes}]` : ''
      return {
        content: [{ type: 'text', text: text + note }],
        structuredContent: { path, text, size: stats.size, truncated },
      }
    } finally {
      await file.close()
    }
  },
})

function checkInside (path: string, realRoot: string, target: string): void {
  const inside = relative(realRoot, target)
  if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) {
    throw refused(path, inside === '' ? 'it is a directory' : 'it leads outside the shared directory (a symlink)')
  }
}

/**
 * Where the file behind `file` is, as the kernel resolved it when opening it (Linux's
 * /proc/self/fd). The checks on the path before the open cannot hold on their own: between
 * them and the open, a directory of the path can be swapped for a symlink to anywhere, and
 * O_NOFOLLOW covers only the last component (Node has no openat to walk the path one directory
 * at a time). The descriptor cannot be swapped: the path it names is the file actually read,
 * wherever its directories led, so checking that path after the open closes the race. A file
 * moved after the open shows its new place, which is refused if it is outside the root.
 */
async function openedPath (file: FileHandle): Promise<string> {
  let target: string
  try {
    target = await readlink(`/proc/self/fd/${file.fd}`)
  } catch {
    throw new ToolError('internal_error', 'read_file cannot check which file it opened: it needs Linux\'s /proc/self/fd, which this system lacks.', { retryable: false })
  }
  // A file deleted since it was opened: it has no place left to check.
  if (target.endsWith(' (deleted)')) throw new ToolError('not_found', 'The file was deleted while it was being opened; retry.', { retryable: true })
  return target
}

function refused (path: string, why: string, code: 'invalid_arguments' | 'not_found' = 'invalid_arguments'): ToolError {
  return new ToolError(code, `Cannot read "${path}": ${why}.`, { retryable: false })
}
