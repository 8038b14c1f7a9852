import { Type } from '@sinclair/typebox'
import type { ModelRouter } from '../../routing/model-router.js'
import { terminalStatuses } from '../../upstream/chat-types.js'
import { defineTool } from '../tool.js'
import type { StoredResponses } from './chat/background-response.js'
import { ChatOutput, chatToolResult } from './chat/chat-result.js'

/** What get_response and cancel_response use: the providers that hold the responses, and the responses. */
export interface StoredResponseToolServices {
  router: Pick<ModelRouter, 'table'>
  responses: StoredResponses
}

export const ResponseId = Type.String({ minLength: 1, pattern: '^[\\w-]+$', title: 'a response id such as resp_abc123', description: 'The responseId a chat result gave.' })

/** Stored responses live at the provider that created them. */
export const ResponseProvider = Type.Optional(Type.String({ minLength: 1, description: 'The provider a chat result named (structuredContent.provider); the default provider when omitted.' }))

export const getResponseTool = defineTool({
  name: 'get_response',
  title: 'Get a stored response',
  description: 'Fetches a response by id from the upstream (Responses API): the answer of a `background` chat that outlasted its wait, or any stored response. With `wait: true` it keeps polling, up to POLL_MAX_MS, while the response runs.',
  inputSchema: Type.Object({
    response_id: ResponseId,
    provider: ResponseProvider,
    wait: Type.Optional(Type.Boolean({ description: 'Keep polling while the response is queued or in progress.' })),
  }, { additionalProperties: false }),
  outputSchema: ChatOutput,
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
  handler: ({ router, responses }: StoredResponseToolServices) => async (args, call) => {
    const { response_id: responseId, provider: providerName, wait } = args
    const routing = router.table
    await responses.checkOwner(call, responseId)
    const provider = routing.provider(providerName)
    let result = await responses.retrieve(call, provider, responseId)
    if (wait) result = await responses.waitFor(call, provider, result, { cancelIfAbandoned: false })
    // A background response outlasting its chat is charged by the first call that finds it finished, once.
    const charged = terminalStatuses.has(result.status) && await call.budget.resume(responseId)
    call.record.answered(result.model, charged ? result.usage : undefined)
    return chatToolResult({ result, api: provider.config.api, routing: call.record.routing() })
  },
})
