/**
 * Preloaded into Portkey's gateway by the bench (`node --import`): its streamed answers fail under
 * Node with `TypeError: immutable` (Portkey-AI/gateway#1550, #1389), because it adds headers to the
 * upstream's own `fetch` Response, whose headers Node keeps immutable. As the fix proposed in
 * Portkey-AI/gateway#1551 does, a streamed Response is copied before that, here where it comes
 * from `fetch`; other answers are left as they are.
 */
const upstreamFetch = globalThis.fetch
globalThis.fetch = async (input, init) => {
  const response = await upstreamFetch(input, init)
  return response.headers.get('content-type')?.startsWith('text/event-stream') ? new Response(response.body, response) : response
}
