import type { ToolError } from '../../errors.js'
import { type SettingNames, toToolError, type UpstreamEndpoint } from '../../upstream/errors.js'
import type { ProviderConfig } from '../routing-config.js'
import type { Deadline } from './deadline.js'

/** What an upstream call does, as metrics and spans name it (GenAI's `gen_ai.operation.name` where it has one). */
export type UpstreamOperationName =
  'chat' | 'embeddings' | 'generate_image' | 'list_models' | 'retrieve_response' | 'cancel_response'

export interface UpstreamOperation {
  name: UpstreamOperationName
  /** What the router is doing, for failure messages: "chat with gpt-4.1-mini". */
  operation: string
  /** The stored object the call names, when it names one: a 404 then means it does not exist ("response resp_1"). */
  resource?: string
}

/**
 * How an attempt a provider let through ended, told to its breakers and concurrency limit:
 * `undefined` when it succeeded, else its failure.
 */
export type AttemptExit = (error: ToolError | undefined) => void

/** What the pipeline uses of a provider (a {@link Provider} of the routing table). */
export interface UpstreamProvider {
  readonly name: string
  readonly url: URL
  readonly config: Pick<ProviderConfig, 'baseURL' | 'timeoutMs' | 'api'>
  readonly settingNames: SettingNames
  /**
   * Lets an attempt at `model` through its circuit breakers and concurrency limit, or throws why it
   * may not go now (circuit open, provider saturated). `countTimeouts`: whether a timeout of this
   * attempt says something about the provider's health.
   */
  enter: (model: string | undefined, signal: AbortSignal, options: { countTimeouts: boolean }) => Promise<AttemptExit>
}

/** Where one upstream call goes: a provider, and the model it names when it names one. */
export interface UpstreamTarget {
  provider: UpstreamProvider
  model?: string
}

/** A target of a route: a provider, and the model id it knows. */
export type RoutedTarget = UpstreamTarget & { model: string }

/** One upstream call as its policies pass it on: each may hand the next a changed copy. */
export interface UpstreamCall<Target extends UpstreamTarget = UpstreamTarget> {
  operation: UpstreamOperation
  /** Where it goes now: the first target, then each fallback in turn. */
  target: Target
  /** Aborted with the tool call; inside the time limit, also when the target's time is up. */
  signal: AbortSignal
  /** The call's deadline; inside the time limit, the target's. */
  deadline: Deadline
  /** Whether the time limit's timer stopped the call (rather than the caller). */
  pastDeadline: () => boolean
}

/** A call to `target` that has not started yet, stopped by `signal` and bounded by `deadline`. */
export function startCall<Target extends UpstreamTarget> (
  operation: UpstreamOperation,
  target: Target,
  signal: AbortSignal,
  deadline: Deadline
): UpstreamCall<Target> {
  return { operation, target, signal, deadline, pastDeadline: () => false }
}

/** Whatever stopped an attempt (its upstream's answer, its gate, its deadline, its caller), as a {@link ToolError}. */
export function upstreamFailure (err: unknown, call: UpstreamCall): ToolError {
  const { operation, target: { provider, model }, signal, deadline, pastDeadline } = call
  const endpoint = endpointOf(operation.name, provider)
  return toToolError(err, {
    operation: operation.operation,
    ...(operation.resource && { resource: operation.resource }),
    ...(model && { model }),
    ...(endpoint && { endpoint }),
    baseURL: provider.config.baseURL,
    settingNames: provider.settingNames,
    timeoutMs: deadline.limitMs,
    signal,
  }, pastDeadline())
}

/** The API an operation that names a model calls on a provider (chat's is the provider's `api`, UPSTREAM_API). */
function endpointOf (name: UpstreamOperationName, provider: UpstreamProvider): UpstreamEndpoint | undefined {
  switch (name) {
    case 'chat': return provider.config.api
    case 'embeddings': return 'embeddings'
    case 'generate_image': return 'images'
    default: return undefined
  }
}
