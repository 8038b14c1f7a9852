import { Type } from '@sinclair/typebox'
import { terminalStatuses } from '../../upstream/chat-types.js'
import { defineTool } from '../tool.js'
import { ChatOutput, chatToolResult } from './chat/chat-result.js'
import { ResponseId, ResponseProvider, type StoredResponseToolServices } from './get-response.js'

export const cancelResponseTool = defineTool({
  name: 'cancel_response',
  title: 'Cancel a background response',
  description: 'Stops a background response (a chat with `background: true`) at the upstream. Returns the response as it stands; a response that already finished cannot be cancelled.',
  inputSchema: Type.Object({
    response_id: ResponseId,
    provider: ResponseProvider,
  }, { additionalProperties: false }),
  outputSchema: ChatOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: ({ router, responses }: StoredResponseToolServices) => async (args, call) => {
    const { response_id: responseId, provider: providerName } = args
    const routing = router.table
    await responses.checkOwner(call, responseId)
    const provider = routing.provider(providerName)
    const result = await responses.cancel(call, provider, responseId)
    // A cancelled background response is charged what it had spent, if its chat left that to be charged.
    if (terminalStatuses.has(result.status) && await call.budget.resume(responseId)) {
      call.record.answered(result.model, result.usage)
    }
    return chatToolResult({ result, api: provider.config.api, routing: call.record.routing() })
  },
})
