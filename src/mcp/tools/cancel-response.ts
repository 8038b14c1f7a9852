import { Type } from '@sinclair/typebox'
import { cancelResponse } from '../../upstream/responses-api.js'
import { defineTool, upstreamCall } from '../tool.js'
import { ChatOutput, chatToolResult } from './chat-result.js'
import { ResponseId } from './get-response.js'

export const cancelResponseTool = defineTool({
  name: 'cancel_response',
  title: 'Cancel a background response',
  description: 'Stops a background response (a chat with `background: true`) at the upstream. Returns the response as it stands; a response that already finished cannot be cancelled.',
  inputSchema: Type.Object({
    response_id: ResponseId,
  }, { additionalProperties: false }),
  outputSchema: ChatOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async run ({ response_id: responseId }, context) {
    const { openai, requestId, config } = context
    const result = await upstreamCall(
      context,
      { name: 'cancel_response', operation: `cancelling response ${responseId}`, resource: `response ${responseId}` },
      (signal) => cancelResponse(openai, responseId, { signal, requestId })
    )
    return chatToolResult(result, { api: config.UPSTREAM_API })
  },
})
