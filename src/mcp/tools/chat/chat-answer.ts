import { Type } from '@sinclair/typebox'
import { StringEnum } from '../../../schemas.js'
import type { ChatResult, ResponseStatus, UpstreamApi } from '../../../upstream/chat-types.js'
import { cachedAnswers } from '../../cached-call.js'
import { type AnswerRouting, AnswerRoutingShape } from '../answer-routing.js'
import type { AgentTurn } from './agent-loop.js'

/**
 * What chat, get_response and cancel_response answer, before it is shown to the client
 * ({@link chatToolResult}): the upstream's answer and what the router knows about it.
 */
export interface ChatAnswer {
  result: ChatResult
  /** The API that answered: how the client answers the model's function calls. */
  api: UpstreamApi
  routing: AnswerRouting
  /** The parsed answer, when the call asked for JSON. */
  json?: unknown
  /** Parameters not sent because the answering model's family refuses them. */
  droppedParameters?: string[]
  /** Per model turn, the downstream tool calls of an agent loop. */
  trace?: AgentTurn[]
}

export const responseStatuses = ['completed', 'incomplete', 'failed', 'cancelled', 'queued', 'in_progress'] as const satisfies readonly ResponseStatus[]

/** A chat answer as the response cache keeps it (agent loops, which have a trace, are never cached). */
const StoredChatAnswer = Type.Object({
  result: Type.Object({
    model: Type.String(),
    text: Type.String(),
    finishReason: Type.String(),
    status: StringEnum(responseStatuses),
    toolCalls: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), arguments: Type.String() })),
    usage: Type.Optional(Type.Object({
      inputTokens: Type.Integer(),
      outputTokens: Type.Integer(),
      totalTokens: Type.Integer(),
    })),
    responseId: Type.String(),
  }),
  api: StringEnum(['responses', 'chat_completions'] as const satisfies readonly UpstreamApi[]),
  routing: AnswerRoutingShape,
  json: Type.Optional(Type.Unknown()),
  droppedParameters: Type.Optional(Type.Array(Type.String())),
})

export const cachedChatAnswers = cachedAnswers(StoredChatAnswer, (answer) => answer.result.model)
