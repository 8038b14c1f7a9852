import { setTimeout as sleep } from 'node:timers/promises'
import { ToolError } from '../../../errors.js'
import { callProvider } from '../../../routing/pipeline/upstream-pipeline.js'
import type { UpstreamOperation } from '../../../routing/pipeline/upstream-call.js'
import type { Provider } from '../../../routing/provider.js'
import type { ResponseOwners } from '../../../shared-state/response-owners.js'
import { type ChatResult, terminalStatuses } from '../../../upstream/chat-types.js'
import { cancelledError } from '../../../upstream/errors.js'
import { cancelResponse, retrieveResponse } from '../../../upstream/responses-api.js'
import { type CallScope, type UpstreamServices } from '../../tool.js'
import { upstreamScope } from '../../upstream-scope.js'

export interface StoredResponseServices {
  upstream: UpstreamServices
  /** Which client created each stored response: with client keys, only it may fetch or cancel one. */
  owners: ResponseOwners
  /** How often a running response is checked (POLL_INTERVAL_MS), and for how long (POLL_MAX_MS). */
  polling: { intervalMs: number, maxMs: number }
}

/**
 * Responses stored at the upstream (Responses API), as chat, get_response and cancel_response
 * use them: fetched, cancelled, waited for, and owned by the client that created them.
 */
export class StoredResponses {
  readonly #upstream: UpstreamServices
  readonly #owners: ResponseOwners
  readonly #polling: StoredResponseServices['polling']

  constructor ({ upstream, owners, polling }: StoredResponseServices) {
    this.#upstream = upstream
    this.#owners = owners
    this.#polling = polling
  }

  /** The response as it stands, from the provider that holds it (get_response). */
  async retrieve (call: CallScope, provider: Provider, responseId: string): Promise<ChatResult> {
    return this.#retrieve(call, provider, responseId, { operation: `fetching response ${responseId}`, resource: `response ${responseId}` })
  }

  /** Stops the response at the provider that holds it; returns it as it stands. */
  async cancel (call: CallScope, provider: Provider, responseId: string): Promise<ChatResult> {
    return callProvider(
      upstreamScope(this.#upstream, call),
      { provider },
      { name: 'cancel_response', operation: `cancelling response ${responseId}`, resource: `response ${responseId}` },
      (signal) => cancelResponse(provider.client, responseId, { signal, requestId: call.requestId })
    )
  }

  /**
   * Polls a background response (at the provider that holds it) until it finishes or POLL_MAX_MS
   * has passed, reporting its status as progress. A response still running at the end is returned
   * as it stands, id and status, for get_response to fetch later.
   */
  async waitFor (
    call: CallScope,
    provider: Provider,
    first: ChatResult,
    { cancelIfAbandoned }: { cancelIfAbandoned: boolean }
  ): Promise<ChatResult> {
    const { signal, progress } = call
    const started = performance.now()
    let result = first
    try {
      while (!terminalStatuses.has(result.status)) {
        const waited = performance.now() - started
        const remaining = this.#polling.maxMs - waited
        if (remaining <= 0) break
        progress.status(`response ${result.responseId} is ${result.status} (${Math.round(waited / 1000)} s)`)
        await sleep(Math.min(this.#polling.intervalMs, remaining), undefined, { signal })
          .catch(() => { throw cancelledError(`waiting for response ${result.responseId}`, signal) })
        result = await this.#check(call, provider, result.responseId)
      }
    } catch (err) {
      // A chat call stopped while waiting: nobody else knows the id, so the upstream should stop working too.
      if (signal.aborted && cancelIfAbandoned) await cancelAbandoned(call, provider, result.responseId)
      throw err
    }
    return result
  }

  /**
   * A chat continuing a background response of its client whose usage was never charged (it
   * outlasted its chat's wait and was never fetched finished): fetches it, and charges it if it has
   * finished. A failure to fetch leaves it to be charged later; the chat goes on either way.
   */
  async chargeContinued (call: CallScope, provider: Provider, responseId: string): Promise<void> {
    const { budget, log } = call
    if (!await budget.isDeferred(responseId)) return
    try {
      const previous = await this.#check(call, provider, responseId)
      if (terminalStatuses.has(previous.status)) await budget.settleContinued(responseId, previous)
    } catch (err) {
      log.info({ err, responseId }, 'the background response a chat continues could not be fetched: it is charged when it is')
    }
  }

  /** Binds the response a chat answer names to the client that asked for it (with client keys). */
  async claim ({ client }: Pick<CallScope, 'client'>, responseId: string): Promise<void> {
    if (client) await this.#owners.claim(responseId, client.name)
  }

  /** With client keys, another client's response does not exist for this one: the same answer as an unknown id. */
  async checkOwner ({ client }: Pick<CallScope, 'client'>, responseId: string): Promise<void> {
    if (!client || await this.#owners.isOwner(responseId, client.name)) return
    throw new ToolError('not_found', `There is no response ${responseId} for client "${client.name}". It may have expired or been deleted, or been created with store: false or by another client.`, { retryable: false })
  }

  /** The response as it stands, checked on behalf of a chat. */
  async #check (call: CallScope, provider: Provider, responseId: string): Promise<ChatResult> {
    return this.#retrieve(call, provider, responseId, { operation: `checking response ${responseId}` })
  }

  async #retrieve (call: CallScope, provider: Provider, responseId: string, what: Pick<UpstreamOperation, 'operation' | 'resource'>): Promise<ChatResult> {
    return callProvider(
      upstreamScope(this.#upstream, call),
      { provider },
      { name: 'retrieve_response', ...what },
      (signal) => retrieveResponse(provider.client, responseId, { signal, requestId: call.requestId })
    )
  }
}

async function cancelAbandoned ({ requestId, log }: Pick<CallScope, 'requestId' | 'log'>, provider: Provider, responseId: string): Promise<void> {
  try {
    await cancelResponse(provider.client, responseId, { signal: AbortSignal.timeout(5000), requestId })
    log.info({ responseId }, 'background response cancelled: its call was abandoned')
  } catch (err) {
    log.warn({ err, responseId }, 'background response of an abandoned call could not be cancelled')
  }
}
