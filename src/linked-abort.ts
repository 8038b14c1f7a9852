/**
 * An AbortController that also aborts when any of `sources` does, linked by listeners that
 * {@link unlink} removes once the work it guards is over.
 *
 * Not `AbortSignal.any`: Node registers a signal composed that way with a FinalizationRegistry as
 * soon as something listens to it, and V8 then keeps it, and everything its listeners reach (a
 * whole call's objects), through every young-generation GC until the next full one: under load,
 * long GC pauses (docs/performance.md).
 */
export class LinkedAbortController extends AbortController {
  readonly #sources: AbortSignal[] = []
  readonly #follow = (event: Event) => {
    this.unlink()
    this.abort((event.target as AbortSignal).reason)
  }

  constructor (sources: ReadonlyArray<AbortSignal | undefined>) {
    super()
    for (const source of sources) {
      if (!source) continue
      if (source.aborted) {
        this.unlink()
        this.abort(source.reason)
        return
      }
      source.addEventListener('abort', this.#follow, { once: true })
      this.#sources.push(source)
    }
  }

  /** Stops following the sources; the signal keeps its state. */
  unlink (): void {
    for (const source of this.#sources) source.removeEventListener('abort', this.#follow)
    this.#sources.length = 0
  }
}
