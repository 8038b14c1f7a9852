/** What the paced upstream (bench/paced-upstream.ts) streams, so the bench can check every answer arrived whole. */
export const DELTAS = 100
export const INTERVAL_MS = 40

/** Text delta number `index` of an answer. */
export const delta = (index: number): string => `w${index} `

export const PACED_ANSWER = Array.from({ length: DELTAS }, (_, index) => delta(index)).join('')
