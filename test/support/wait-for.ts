import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Polls until `condition` holds; fails after `timeoutMs` so a test never hangs. The bound is
 * generous because a loaded 2-core machine can be seconds late; a condition that holds ends the wait at once.
 */
export async function waitFor (
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}
