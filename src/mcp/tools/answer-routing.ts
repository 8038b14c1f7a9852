import { type Static, Type } from '@sinclair/typebox'

/** `structuredContent` fields of every tool that calls a model: who answered, and what was tried. */
export const RoutingOutput = {
  provider: Type.Optional(Type.String({ description: 'The provider that answered.' })),
  attempts: Type.Optional(Type.Array(Type.Object({
    provider: Type.String(),
    model: Type.String(),
    outcome: Type.String({ description: 'ok, or the error code of the failure that passed the call on to the next fallback.' }),
  }), { description: 'Each provider and model the call went to, in order: the first, then its fallbacks.' })),
}

/** Who answered a call and what was tried before, as its answer carries them (into the cache too). */
export const AnswerRoutingShape = Type.Object(RoutingOutput)
export type AnswerRouting = Static<typeof AnswerRoutingShape>
