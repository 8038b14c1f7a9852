/**
 * One concern of an upstream call (its fallbacks, its time limit, its retries, its gate, ...):
 * it does its part around `next`, the policies inside it and, innermost, the call itself, and
 * may hand `next` a changed call (another target, a signal that also stops at its deadline).
 */
export type Policy<Call> = <T>(call: Call, next: (call: Call) => Promise<T>) => Promise<T>

/**
 * The policies as one, the first outermost: `wrap(a, b)(call, run)` runs `a` around `b` around
 * `run` (cockatiel's `wrap`, Hono's `compose`).
 */
export function wrap<Call> (...policies: ReadonlyArray<Policy<Call>>): Policy<Call> {
  return async <T>(call: Call, run: (call: Call) => Promise<T>): Promise<T> => {
    const step = async (index: number, current: Call): Promise<T> => {
      const policy = policies[index]
      return policy ? policy(current, async (next) => step(index + 1, next)) : run(current)
    }
    return step(0, call)
  }
}
