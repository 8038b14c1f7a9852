import type { Route, RouteTarget } from '../../../routing/routing-table.js'
import { type ChatCallContext, type ChatRequest, type ChatResult, isFunctionTool } from '../../../upstream/chat-types.js'
import { createChat, withoutUnsupportedParameters } from '../../../upstream/chat.js'
import { routedCall } from '../../routed-call.js'
import { characterTokens, chatInputTokens } from '../../spend-estimates.js'
import type { UpstreamContext } from '../../tool.js'

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
export async function routedChat (context: UpstreamContext, route: Route, request: ChatRequest, { operation, timeoutMs, onText }: { operation: string, timeoutMs: number | undefined, onText: ChatCallContext['onText'] }): Promise<RoutedChat> {
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
    const { value, target } = await routedCall(context, route, { name: 'chat', operation, timeoutMs }, async (target, signal) => {
      const { request: sent, dropped } = withoutUnsupportedParameters({ ...request, model: target.model })
      if (dropped.length > 0 && !droppedFor.has(target)) context.log.info({ model: target.model, dropped }, 'parameters the model family refuses were not sent')
      droppedFor.set(target, dropped)
      return createChat(target.provider.client, target.provider.config.api, sent, { signal, requestId: context.requestId, ...(counted && { onText: counted }) })
    }, canTake)
    return { result: value, target, dropped: droppedFor.get(target) ?? [] }
  } catch (err) {
    // Once text was streamed the call is never passed on or retried: it is this one stream's text.
    if (streamedCharacters > 0) {
      const estimate = { inputTokens: chatInputTokens(request), outputTokens: characterTokens(streamedCharacters) }
      context.record.estimated(estimate)
      context.log.info({ ...estimate, tokensEstimated: true }, 'the stream broke off before its usage came: its input and streamed text are charged as an estimate')
    }
    throw err
  }
}
