import { setTimeout as sleep } from 'node:timers/promises'
import type { CallToolResult } from '@modelcontextprotocol/server'
import { ToolError } from '../../../errors.js'
import { callProvider } from '../../../routing/pipeline/upstream-pipeline.js'
import type { Provider } from '../../../routing/provider.js'
import { type ChatResult, terminalStatuses } from '../../../upstream/chat-types.js'
import { cancelledError } from '../../../upstream/errors.js'
import { cancelResponse, retrieveResponse } from '../../../upstream/responses-api.js'
import { type ToolContext } from '../../tool.js'
import { upstreamScope } from '../../upstream-scope.js'

/**
 * Polls a background response (at the provider that holds it) until it finishes or POLL_MAX_MS has passed, reporting its status
 * as progress. A response still running at the end is returned as it stands, id and status,
 * for get_response to fetch later.
 */
export async function waitForResponse (context: ToolContext, provider: Provider, first: ChatResult, { cancelIfAbandoned }: { cancelIfAbandoned: boolean }): Promise<ChatResult> {
  const { config, requestId, signal, progress } = context
  const started = performance.now()
  let result = first
  try {
    while (!terminalStatuses.has(result.status)) {
      const waited = performance.now() - started
      const remaining = config.POLL_MAX_MS - waited
      if (remaining <= 0) break
      progress.status(`response ${result.responseId} is ${result.status} (${Math.round(waited / 1000)} s)`)
      await sleep(Math.min(config.POLL_INTERVAL_MS, remaining), undefined, { signal })
        .catch(() => { throw cancelledError(`waiting for response ${result.responseId}`, signal) })
      const { responseId } = result
      result = await callProvider(upstreamScope(context), { provider }, { name: 'retrieve_response', operation: `checking response ${responseId}` }, (callSignal) => retrieveResponse(provider.client, responseId, { signal: callSignal, requestId }))
    }
  } catch (err) {
    // A chat call stopped while waiting: nobody else knows the id, so the upstream should stop working too.
    if (signal.aborted && cancelIfAbandoned) await cancelAbandoned(context, provider, result.responseId)
    throw err
  }
  return result
}

async function cancelAbandoned ({ requestId, log }: ToolContext, provider: Provider, responseId: string): Promise<void> {
  try {
    await cancelResponse(provider.client, responseId, { signal: AbortSignal.timeout(5000), requestId })
    log.info({ responseId }, 'background response cancelled: its call was abandoned')
  } catch (err) {
    log.warn({ err, responseId }, 'background response of an abandoned call could not be cancelled')
  }
}

/**
 * A chat continuing a background response of its client whose usage was never charged (it
 * outlasted its chat's wait and was never fetched finished): fetches it, and charges it if it has
 * finished. A failure to fetch leaves it to be charged later; the chat goes on either way.
 */
export async function chargeContinuedResponse (context: ToolContext, provider: Provider, responseId: string): Promise<void> {
  const { budget, requestId, log } = context
  if (!await budget.isDeferred(responseId)) return
  try {
    const previous = await callProvider(upstreamScope(context), { provider }, { name: 'retrieve_response', operation: `checking response ${responseId}` }, (signal) => retrieveResponse(provider.client, responseId, { signal, requestId }))
    if (terminalStatuses.has(previous.status)) await budget.settleContinued(responseId, previous)
  } catch (err) {
    log.info({ err, responseId }, 'the background response a chat continues could not be fetched: it is charged when it is')
  }
}

/** Binds the response a chat result names to the client that asked for it (with client keys). */
export async function claimResponse ({ client, responseOwners }: ToolContext, result: CallToolResult): Promise<CallToolResult> {
  const responseId = (result.structuredContent as { responseId?: unknown } | undefined)?.responseId
  if (client && typeof responseId === 'string') await responseOwners.claim(responseId, client.name)
  return result
}

/** With client keys, another client's response does not exist for this one: the same answer as an unknown id. */
export async function checkResponseOwner ({ client, responseOwners }: ToolContext, responseId: string): Promise<void> {
  if (!client || await responseOwners.isOwner(responseId, client.name)) return
  throw new ToolError('not_found', `There is no response ${responseId} for client "${client.name}". It may have expired or been deleted, or been created with store: false or by another client.`, { retryable: false })
}
