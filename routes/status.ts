import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { bearerToken } from '../src/access/shared-secret.js'
import { isOriginAllowed } from '../src/mcp/http/origin-policy.js'
import { statusScript } from '../src/status/page-script.js'
import { statusIcon, statusStyle } from '../src/status/page-style.js'
import { describeViewer, isStatusRefusal, SESSION_TTL_MS, StatusAccess, type StatusRefusal, type StatusViewer } from '../src/status/status-access.js'
import { callRows, liveSections, signInPage, STATUS_ASSETS, statusPage } from '../src/status/status-page.js'
import { StatusSnapshotSchema } from '../src/status/status-schema.js'

const SESSION_COOKIE = 'mor_status'
// Nothing but the router's own origin: no CDN, no inline script or style, no framing.
const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

const ErrorBody = Type.Object({ error: Type.String() })
const Since = Type.Object({ since: Type.Integer({ minimum: 0, default: 0, description: 'Only calls with a greater seq (the lastSeq of the previous answer).' }) })
const Live = Type.Object({
  generatedAt: Type.Integer(),
  lastSeq: Type.Integer(),
  sections: Type.Record(Type.String(), Type.String(), { description: 'The markup of each live section, by element id.' }),
  calls: Type.String({ description: 'Table rows of the calls after `since`, newest first.' }),
})

/**
 * The status page: `GET /status` (HTML, server-rendered, kept current by its one script),
 * `GET /status.json` (the same snapshot as JSON) and `GET /status/live` (what the script polls).
 * Read-only, for the bearer of METRICS_TOKEN, an operator's client key or an access token with
 * OAUTH_STATUS_SCOPE (or a browser signed in with one), under the same Origin and Host rules as /mcp.
 */
export default async function statusRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config, statusBoard } = fastify
  const access = new StatusAccess({
    metricsToken: config.METRICS_TOKEN,
    clientKeys: fastify.clientKeys,
    accessTokens: fastify.accessTokens,
    statusScope: config.oauth?.statusScope,
  })
  if (access.closed) fastify.log.warn('GET /status is refused: client keys are configured and no credential may read it. Set METRICS_TOKEN, mark a client as operator: true, or set OAUTH_STATUS_SCOPE.')

  fastify.addHook('onRequest', async (_request, reply) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      // same-origin, not no-referrer: with no-referrer the browser sends the sign-in form with
      // Origin: null, which the Origin rule refuses.
      .header('referrer-policy', 'same-origin')
      .header('x-frame-options', 'DENY')
  })
  // DNS rebinding: a page of another origin, or a name that resolves here, must not read the
  // router's state through a browser.
  fastify.addHook('onRequest', async (request, reply) => {
    if (!isOriginAllowed(request.headers.origin, config.ALLOWED_ORIGINS)) return refuse(reply, 403, `Origin ${request.headers.origin} is not allowed (ALLOWED_ORIGINS)`)
  })
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16_384 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })

  /** Who is asking: a signed-in browser's session, else the Authorization header's token. */
  const viewerOf = async (request: FastifyRequest): Promise<StatusViewer | StatusRefusal> =>
    access.resume(sessionCookie(request.headers.cookie)) ??
    access.authenticate(bearerToken(request.headers.authorization))

  app.get('/status', { schema: { response: { 200: Type.String(), 401: Type.String(), 403: Type.String(), 503: Type.String() } } }, async (request, reply) => {
    const viewer = await viewerOf(request)
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store')
    if (isStatusRefusal(viewer)) return refusedPage(reply, viewer, access)
    return statusPage(await statusBoard.snapshot(), describeViewer(viewer), viewer.kind !== 'open')
  })

  app.get('/status.json', { schema: { querystring: Since, response: { 200: StatusSnapshotSchema, 401: ErrorBody, 403: ErrorBody, 503: ErrorBody } } }, async (request, reply) => {
    const viewer = await viewerOf(request)
    reply.header('cache-control', 'no-store')
    if (isStatusRefusal(viewer)) return refuse(reply, viewer.status, viewer.reason)
    return statusBoard.snapshot(request.query.since)
  })

  // Polled every few seconds by each open page: a log line per poll would drown the log.
  app.get('/status/live', { logLevel: 'warn', schema: { querystring: Since, response: { 200: Live, 401: ErrorBody, 403: ErrorBody, 503: ErrorBody } } }, async (request, reply) => {
    const viewer = await viewerOf(request)
    reply.header('cache-control', 'no-store')
    if (isStatusRefusal(viewer)) return refuse(reply, viewer.status, viewer.reason)
    const snapshot = await statusBoard.snapshot(request.query.since)
    return {
      generatedAt: snapshot.generatedAt,
      lastSeq: snapshot.lastSeq,
      sections: liveSections(snapshot),
      calls: callRows(snapshot.calls),
    }
  })

  app.post('/status/sign-in', { schema: { body: Type.Object({ token: Type.String({ maxLength: 8192 }) }) } }, async (request, reply) => {
    const viewer = await access.authenticate(request.body.token)
    reply.header('cache-control', 'no-store')
    if (isStatusRefusal(viewer)) {
      request.log.info({ reason: viewer.reason }, 'status page sign-in refused')
      return refusedPage(reply.type('text/html; charset=utf-8'), viewer, access)
    }
    request.log.info({ viewer: describeViewer(viewer) }, 'signed in to the status page')
    return reply.header('set-cookie', cookie(request, access.session(viewer), SESSION_TTL_MS / 1000)).redirect('/status', 303)
  })

  app.post('/status/sign-out', async (request, reply) => reply.header('set-cookie', cookie(request, '', 0)).redirect('/status', 303))

  const assets: Array<[string, string, string]> = [
    [STATUS_ASSETS.script, 'text/javascript; charset=utf-8', statusScript],
    [STATUS_ASSETS.style, 'text/css; charset=utf-8', statusStyle],
    [STATUS_ASSETS.icon, 'image/svg+xml', statusIcon],
  ]
  for (const [url, type, body] of assets) {
    // Not secret: the sign-in page needs them before anyone has signed in.
    app.get(url, { logLevel: 'warn' }, async (_request, reply) => reply.type(type).header('cache-control', 'public, max-age=300').send(body))
  }
}

/** A refusal as JSON, whichever route (HTML or JSON) it stops: sent as text, so no route's schema reshapes it. */
function refuse (reply: FastifyReply, status: number, reason: string) {
  const error = `${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Service Unavailable'}: ${reason}`
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify({ error }))
}

function refusedPage (reply: FastifyReply, refusal: StatusRefusal, access: StatusAccess) {
  if (refusal.status === 401) reply.header('www-authenticate', 'Bearer realm="status"')
  return reply.code(refusal.status).send(signInPage(refusal.reason, !access.closed))
}

function sessionCookie (header: string | undefined): string | undefined {
  const prefix = `${SESSION_COOKIE}=`
  return header?.split(';').map((part) => part.trim()).find((part) => part.startsWith(prefix))?.slice(prefix.length)
}

/**
 * The session cookie: never readable by scripts, never sent by another site, Secure over HTTPS, for
 * the status paths only.
 */
function cookie (request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/status; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${request.protocol === 'https' ? '; Secure' : ''}`
}
