/** A clock a test moves: it starts at the real time and advances only when told (`BuildAppOptions.clock`). */
export class ManualClock {
  #now = Date.now()

  readonly now = (): number => this.#now

  advance (ms: number): void {
    this.#now += ms
  }
}
