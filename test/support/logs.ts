import { Writable } from 'node:stream'

export type LogLine = Record<string, unknown> & { level: number, msg?: string }

/** A pino destination that keeps every line, parsed, for tests to search. */
export class LogCapture {
  readonly raw: string[] = []
  readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      this.raw.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      done()
    },
  })

  get lines (): LogLine[] {
    return this.raw.map((line) => JSON.parse(line) as LogLine)
  }

  /** Lines whose fields include every field of `match`. */
  find (match: Record<string, unknown>): LogLine[] {
    return this.lines.filter((line) => Object.entries(match).every(([key, value]) => line[key] === value))
  }
}
