/**
 * Far above what /health takes on a loaded machine, far below the tens of seconds a backtracking or
 * bombed compile blocked it.
 */
export const HEALTH_BOUND_MS = 2000

/**
 * The slowest `/health` answer while `work` runs, asked every 50 ms over its own connections, as
 * a probe or another client would; each answer waited for at most {@link HEALTH_BOUND_MS} × 5.
 */
export async function slowestHealthDuring<T> (
  baseUrl: string,
  work: () => Promise<T>
): Promise<{ result: T, slowestMs: number }> {
  let slowestMs = 0
  const running = { done: false }
  const probe = async () => {
    while (!running.done) {
      const started = performance.now()
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(HEALTH_BOUND_MS * 5) }).catch(() => undefined)
      await response?.body?.cancel()
      slowestMs = Math.max(slowestMs, response?.ok ? performance.now() - started : Infinity)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const probing = probe()
  let result: T
  try {
    result = await work()
  } finally {
    running.done = true
    await probing
  }
  return { result, slowestMs }
}
