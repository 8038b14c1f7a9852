import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { CallHistory } from '../src/observability/call-history.js'
import { RecentCalls } from '../src/observability/recent-calls.js'
import { UpstreamHealth } from '../src/observability/upstream-health.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** This replica's last tool calls and its upstreams' recent error rates and latencies (GET /status). */
    callHistory: CallHistory
  }
}

/** How many finished calls the status page lists: a few hundred, newest first. */
export const RECENT_CALLS = 500
/** How far back its error rates and latencies reach. */
export const UPSTREAM_HEALTH_WINDOW_MS = 5 * 60_000

async function callHistoryPlugin (fastify: FastifyInstance) {
  fastify.decorate('callHistory', new CallHistory(
    new RecentCalls(RECENT_CALLS, fastify.prices),
    new UpstreamHealth({ windowMs: UPSTREAM_HEALTH_WINDOW_MS, maxSamples: 1000, maxPairs: 200 })
  ))
}

export default fp(callHistoryPlugin, { name: 'call-history', dependencies: ['metrics'] })
