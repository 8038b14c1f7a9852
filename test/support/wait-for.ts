import { setTimeout as sleep } from 'node:timers/promises'

/** Polls until `condition` holds; fails after `timeoutMs` so a test never hangs. */
export async function waitFor (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}
