import { Type } from '@sinclair/typebox'
import { callProvider } from '../../routing/pipeline/upstream-pipeline.js'
import { terminalStatuses } from '../../upstream/chat-types.js'
import { cancelResponse } from '../../upstream/responses-api.js'
import { defineTool } from '../tool.js'
import { upstreamScope } from '../upstream-scope.js'
import { checkResponseOwner } from './chat/background-response.js'
import { ChatOutput, chatToolResult } from './chat/chat-result.js'
import { ResponseId, ResponseProvider } from './get-response.js'

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
  async run ({ response_id: responseId, provider: providerName }, context) {
    const { requestId } = context
    await checkResponseOwner(context, responseId)
    const provider = context.routing.provider(providerName)
    const result = await callProvider(
      upstreamScope(context),
      { provider },
      { name: 'cancel_response', operation: `cancelling response ${responseId}`, resource: `response ${responseId}` },
      (signal) => cancelResponse(provider.client, responseId, { signal, requestId })
    )
    // A cancelled background response is charged what it had spent, if its chat left that to be charged.
    if (terminalStatuses.has(result.status) && await context.budget.resume(responseId)) context.record.answered(result.model, result.usage)
    return chatToolResult(result, { api: provider.config.api, record: context.record })
  },
})
