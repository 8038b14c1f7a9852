import { readFile, rm, writeFile } from 'node:fs/promises'

// Every failure here is one line naming PID_FILE, which the entry point prints as it is.
/** The process id a PID file holds, or undefined when there is no file. */
async function readPid (path: string): Promise<number | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new Error(`PID_FILE cannot be read (${path}): ${(err as Error).message}`)
  }
  const pid = Number(text.trim())
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`PID_FILE does not hold a process id (${path})`)
  return pid
}

// What the router's command line holds however it was started: npm start, the image, npm run dev,
// the installed command.
const ROUTER_COMMAND = /(?:^|[/\0])(?:server\.[jt]s|mcp-openai-router)(?:\0|$)/

/**
 * Whether `pid` is a router that is running. A router killed without removing its file may have
 * left its id to an unrelated process: where the system shows command lines (Linux's /proc), a
 * process whose command line is no router's is not one, and is never signalled.
 */
async function isRouterRunning (pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0)
  } catch (err) {
    // EPERM: it runs, as another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined)
  return commandLine === undefined || ROUTER_COMMAND.test(commandLine)
}

/**
 * Writes this process's id to `path`, unless a running process's id is already there (another
 * router with the same PID_FILE, which `reload` would then never reach). A file left by a router
 * that was killed is replaced.
 */
export async function claimPidFile (path: string): Promise<void> {
  const holder = await readPid(path)
  if (holder !== undefined && holder !== process.pid && await isRouterRunning(holder)) {
    throw new Error(`PID_FILE ${path} names process ${holder}, which is running: another router uses this PID_FILE; give each its own`)
  }
  await writeFile(path, `${process.pid}\n`).catch((err: unknown) => { throw new Error(`PID_FILE cannot be written (${path}): ${(err as Error).message}`) })
}

/** Removes `path` if it still names this process (a later router may have claimed it). */
export async function releasePidFile (path: string): Promise<void> {
  if (await readPid(path).catch(() => undefined) === process.pid) await rm(path, { force: true })
}

/** Sends `signal` to the router whose id `path` holds; resolves to that id. */
export async function signalRouter (path: string | undefined, signal: NodeJS.Signals): Promise<number> {
  if (path === undefined) throw new Error('reload needs PID_FILE, the file the router writes its process id to (set it for the router and for this command)')
  const pid = await readPid(path)
  if (pid === undefined) throw new Error(`no router has written PID_FILE ${path}: is it running with this PID_FILE?`)
  if (!await isRouterRunning(pid)) throw new Error(`process ${pid} (PID_FILE ${path}) is not a running router: the router was stopped without removing its PID_FILE`)
  try {
    process.kill(pid, signal)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new Error(`cannot signal process ${pid} (PID_FILE ${path}): ${code ?? String(err)}`)
  }
  return pid
}
