/** The rate key of a client's requests per minute. */
export function clientRateKey (clientName: string): string {
  return `client:${clientName}`
}

/** Whose requests per minute a request counts among: its client's, or its address's when it has no client. */
export function requestRateKey (client: { name: string } | undefined, address: string): string {
  return client ? clientRateKey(client.name) : `ip:${address}`
}

/** The window counter a rate key's requests are counted in (one for every /mcp route). */
export function requestCounterKey (rateKey: string): string {
  return `requests:${rateKey}`
}
