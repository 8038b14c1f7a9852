import { createHash, timingSafeEqual } from 'node:crypto'

/** A secret the operator shares with its readers (METRICS_TOKEN), compared in constant time. */
export class SharedSecret {
  readonly #digest: Buffer

  constructor (secret: string) {
    this.#digest = sha256(secret)
  }

  // Hashing first gives equal lengths, so the comparison takes the same time whatever was sent.
  matches (presented: string): boolean {
    return timingSafeEqual(sha256(presented), this.#digest)
  }
}

/** The token of an `Authorization: Bearer <token>` header, whatever its characters (unlike a client key's). */
export function bearerToken (authorization: string | undefined): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]
}

function sha256 (value: string): Buffer {
  return createHash('sha256').update(value).digest()
}
