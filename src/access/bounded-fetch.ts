/**
 * `fetch`, with the body read whole but never past `maxBytes`: a larger answer (by its
 * Content-Length, or as it arrives) is refused with an error naming `setting`, and its download
 * stopped. For the small documents the router reads from other servers (an issuer's JWKS and
 * metadata), which it must not hold in memory at any size they choose.
 */
export async function fetchBounded (
  url: string | URL,
  init: RequestInit,
  maxBytes: number,
  setting: string
): Promise<Response> {
  const response = await fetch(url, init)
  const tooLarge = () => new Error(`${String(url)} sent more than ${maxBytes} bytes (${setting})`)
  if (Number(response.headers.get('content-length')) > maxBytes) {
    await response.body?.cancel()
    throw tooLarge()
  }
  const chunks: Uint8Array[] = []
  let received = 0
  for await (const chunk of response.body ?? []) {
    received += chunk.byteLength
    // Leaving the loop cancels the body: the rest is never downloaded.
    if (received > maxBytes) throw tooLarge()
    chunks.push(chunk)
  }
  const { status, statusText, headers } = response
  return new Response(Buffer.concat(chunks), { status, statusText, headers })
}
