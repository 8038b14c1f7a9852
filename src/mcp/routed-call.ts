import { Type } from '@sinclair/typebox'
import type { CallRecord } from '../observability/call-record.js'

/** `structuredContent` fields of every tool that calls a model: who answered, and what was tried. */
export const RoutingOutput = {
  provider: Type.Optional(Type.String({ description: 'The provider that answered.' })),
  attempts: Type.Optional(Type.Array(Type.Object({
    provider: Type.String(),
    model: Type.String(),
    outcome: Type.String({ description: 'ok, or the error code of the failure that passed the call on to the next fallback.' }),
  }), { description: 'Each provider and model the call went to, in order: the first, then its fallbacks.' })),
}

/** The routing fields of a result, from what the call did. */
export function routingOutput (record: CallRecord): { provider?: string, attempts: CallRecord['attempts'] } {
  return { ...(record.providerAnswered && { provider: record.providerAnswered }), attempts: record.attempts }
}
