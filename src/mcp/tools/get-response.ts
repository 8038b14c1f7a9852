import { Type } from '@sinclair/typebox'
import { retrieveResponse } from '../../upstream/responses-api.js'
import { defineTool, upstreamCall } from '../tool.js'
import { waitForResponse } from './background-response.js'
import { ChatOutput, chatToolResult } from './chat-result.js'

export const ResponseId = Type.String({ minLength: 1, pattern: '^[\\w-]+$', title: 'a response id such as resp_abc123', description: 'The responseId a chat result gave.' })

export const getResponseTool = defineTool({
  name: 'get_response',
  title: 'Get a stored response',
  description: 'Fetches a response by id from the upstream (Responses API): the answer of a `background` chat that outlasted its wait, or any stored response. With `wait: true` it keeps polling, up to POLL_MAX_MS, while the response runs.',
  inputSchema: Type.Object({
    response_id: ResponseId,
    wait: Type.Optional(Type.Boolean({ description: 'Keep polling while the response is queued or in progress.' })),
  }, { additionalProperties: false }),
  outputSchema: ChatOutput,
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
  async run ({ response_id: responseId, wait }, context) {
    const { openai, requestId, config } = context
    let result = await upstreamCall(
      context,
      { name: 'retrieve_response', operation: `fetching response ${responseId}`, resource: `response ${responseId}` },
      (signal) => retrieveResponse(openai, responseId, { signal, requestId })
    )
    if (wait) result = await waitForResponse(context, result, { cancelIfAbandoned: false })
    // Its tokens were spent by the chat call that started it, not by this one.
    context.record.answered(result.model)
    return chatToolResult(result, { api: config.UPSTREAM_API })
  },
})
