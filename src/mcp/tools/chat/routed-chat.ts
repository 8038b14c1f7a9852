import type { Route, RouteTarget } from '../../../routing/routing-table.js'
import { type ChatCallContext, type ChatRequest, type ChatResult, isFunctionTool } from '../../../upstream/chat-types.js'
import { createChat, withoutUnsupportedParameters } from '../../../upstream/chat.js'
import { callRoute } from '../../../routing/pipeline/upstream-pipeline.js'
import { characterTokens, chatInputTokens } from '../../spend-estimates.js'
import type { CallScope, UpstreamServices } from '../../tool.js'
import { upstreamScope } from '../../upstream-scope.js'

export interface RoutedChat {
  result: ChatResult
  /** Where the answer came from: its client answers get_response and its API how tool calls are answered. */
  target: RouteTarget
  /** Parameters left out because the answering model's family refuses them. */
  dropped: string[]
}

/**
 * One chat request along a route: each target gets the request with its own model id, without the
 * parameters its family refuses, over its provider's API. Fallbacks that cannot take the request
 * are left out: another provider cannot continue a stored response, and Chat Completions has no
 * background mode or hosted tools. A stream that breaks off after some of its text (the client
 * hung up, the upstream went away) never gets to its usage, which comes last: its input and the
 * text streamed are charged as an estimate.
 */
export interface RoutedChatOptions {
  operation: string
  /** The call's `timeout_ms`: its one deadline, capped at UPSTREAM_TIMEOUT_MS. */
  timeoutMs: number | undefined
  onText: ChatCallContext['onText']
}

export async function routedChat (
  upstream: UpstreamServices,
  call: CallScope,
  route: Route,
  request: ChatRequest,
  { operation, timeoutMs, onText }: RoutedChatOptions
): Promise<RoutedChat> {
  const { log, record, requestId } = call
  const [first] = route.targets
  const canTake = (target: RouteTarget) => {
    if (request.previousResponseId) return target.provider === first.provider
    return target.provider.config.api === 'responses' || (!request.background && (request.tools ?? []).every(isFunctionTool))
  }
  const droppedFor = new Map<RouteTarget, string[]>()
  let streamedCharacters = 0
  const counted = onText && ((delta: string) => {
    streamedCharacters += delta.length
    onText(delta)
  })
  try {
    const scope = upstreamScope(upstream, call, timeoutMs)
    const { value, target } = await callRoute(scope, route, { name: 'chat', operation }, async (target, signal) => {
      const { request: sent, dropped } = withoutUnsupportedParameters({ ...request, model: target.model })
      if (dropped.length > 0 && !droppedFor.has(target)) {
        log.info({ model: target.model, dropped }, 'parameters the model family refuses were not sent')
      }
      droppedFor.set(target, dropped)
      const { client, config: { api } } = target.provider
      return createChat(client, api, sent, { signal, requestId, ...(counted && { onText: counted }) })
    }, canTake)
    return { result: value, target, dropped: droppedFor.get(target) ?? [] }
  } catch (err) {
    // Once text was streamed the call is never passed on or retried: it is this one stream's text.
    if (streamedCharacters > 0) {
      const estimate = { inputTokens: chatInputTokens(request), outputTokens: characterTokens(streamedCharacters) }
      record.estimated(estimate)
      log.info({ ...estimate, tokensEstimated: true }, 'the stream broke off before its usage came: its input and streamed text are charged as an estimate')
    }
    throw err
  }
}
