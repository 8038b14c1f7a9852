import type { Client } from '../access/client-keys.js'
import { ToolError } from '../errors.js'
import type { Glob } from '../glob.js'
import { anyModelMatches, modelGlobs } from '../model-name.js'
import type { UpstreamModel } from '../upstream/models.js'
import { type RoutingConfig, splitProviderPrefix } from './routing-config.js'
import type { Provider } from './provider.js'

/** One place a call can go: a provider, and the model id that provider knows. */
export interface RouteTarget {
  provider: Provider
  model: string
}

/** Where a call for a model name goes: its target first, then its fallbacks in order. */
export interface Route {
  requested: string
  targets: [RouteTarget, ...RouteTarget[]]
}

/** A model list_models shows: where it is served, and the aliases that lead to it. */
export interface RoutableModel extends UpstreamModel {
  provider: string
  /** `provider/model`: the name that reaches this model whatever else is configured. */
  route: string
  aliases?: string[]
}

/**
 * How model names reach providers, for one version of the configuration: aliases, `provider/model`
 * names, bare names looked up among the providers' models, the allow and deny lists, and fallbacks.
 * A reload builds a new table; calls keep the table they started with.
 */
export class RoutingTable {
  readonly #allow: Glob[]
  readonly #deny: Glob[]
  /** The providers' upstream keys, which logs must never show. */
  readonly providerKeys: readonly string[]

  constructor (readonly config: RoutingConfig, readonly providers: ReadonlyMap<string, Provider>) {
    this.#allow = modelGlobs(config.allowModels)
    this.#deny = modelGlobs(config.denyModels)
    this.providerKeys = [...providers.values()].flatMap((provider) => provider.config.apiKey ?? [])
  }

  /** The first provider: where calls that name no provider go when no model list says otherwise. */
  get defaultProvider (): Provider {
    return this.providers.values().next().value as Provider
  }

  /** A provider by name, for calls about something it holds (a stored response); the default one when none is named. */
  provider (name: string | undefined): Provider {
    if (name === undefined) return this.defaultProvider
    const provider = this.providers.get(name)
    if (!provider) throw new ToolError('invalid_arguments', `No provider is called "${name}"; the providers are: ${[...this.providers.keys()].join(', ')}.`, { retryable: false })
    return provider
  }

  /**
   * The route for a model name: refused when the allow and deny lists (the router's, then the
   * client's) exclude it, before any upstream call; then its target, then the fallbacks the client
   * may call.
   */
  route (requested: string, client?: Client): Route {
    const primary = this.#resolve(requested)
    if (client && !clientAllows(client, requested, primary)) {
      throw new ToolError('model_not_allowed', `Client "${client.name}" may not call model "${requested}". Its allowed models: ${client.models?.globs.join(', ')}.`, { retryable: false })
    }
    if (!this.#allows(requested, primary)) {
      const { aliases } = this.config
      const allowedAliases = Object.keys(aliases).filter((alias) => this.#allows(alias, this.#resolve(alias)))
      const allowed = [...this.config.allowModels, ...allowedAliases]
      const list = allowed.length > 0 ? `Allowed models: ${[...new Set(allowed)].join(', ')}.` : 'No model is allowed apart from those list_models shows.'
      throw new ToolError('model_not_allowed', `Model "${requested}" is not allowed on this router. ${list} Call list_models for the full list.`, { retryable: false })
    }
    const { fallbacks } = this.config
    const chain = fallbacks[requested] ?? fallbacks[`${primary.provider.name}/${primary.model}`] ?? fallbacks[primary.model] ?? []
    const targets: Route['targets'] = [primary]
    for (const name of chain) {
      const target = this.#resolve(name)
      if (client && !clientAllows(client, name, target)) continue
      const listed = targets.some((known) => known.provider === target.provider && known.model === target.model)
      if (!listed) targets.push(target)
    }
    return { requested, targets }
  }

  /**
   * Every model a client may call, with its provider and aliases: the providers' own lists, and
   * `/models` (cached) for those that serve "*". A provider whose list cannot be fetched is
   * reported in `unavailable`; only when none answers does the call fail.
   */
  async routableModels (
    requestId: string,
    client?: Client
  ): Promise<{ models: RoutableModel[], unavailable: Array<{ provider: string, error: string }> }> {
    const lists = await Promise.all([...this.providers.values()].map(async (provider) => {
      const { models } = provider.config
      if (models !== '*') return { provider, models: models.map((id) => ({ id })) }
      try {
        return { provider, models: await provider.models.list(requestId) }
      } catch (error) {
        return { provider, error }
      }
    }))
    const failed = lists.filter((list) => list.models === undefined)
    if (failed.length === lists.length) throw failed[0]?.error
    const aliasesOf = new Map<string, string[]>()
    for (const alias of Object.keys(this.config.aliases)) {
      const target = this.#resolve(alias)
      const key = `${target.provider.name}/${target.model}`
      aliasesOf.set(key, [...(aliasesOf.get(key) ?? []), alias])
    }
    const models = lists.flatMap(({ provider, models = [] }) => models.flatMap((model): RoutableModel[] => {
      const route = `${provider.name}/${model.id}`
      const aliases = aliasesOf.get(route)
      const target = { provider, model: model.id }
      const callable = (name: string) => this.#allows(name, target) && (!client || clientAllows(client, name, target))
      if (!callable(route) && !aliases?.some(callable)) return []
      return [{ ...model, provider: provider.name, route, ...(aliases && { aliases }) }]
    }))
    return {
      models,
      unavailable: failed.map(({ provider, error }) => ({
        provider: provider.name,
        error: error instanceof Error ? error.message : String(error),
      })),
    }
  }

  /** An alias's target, `provider/model`, or a bare model id and the provider that serves it. */
  #resolve (name: string): RouteTarget {
    const target = this.config.aliases[name] ?? name
    const prefixed = splitProviderPrefix(target, (provider) => this.providers.has(provider))
    if (prefixed) return { provider: this.providers.get(prefixed.provider) as Provider, model: prefixed.model }
    const providers = [...this.providers.values()]
    const serving = providers.find(({ config }) => config.models !== '*' && config.models.includes(target)) ??
      providers.find(({ config, models }) => config.models === '*' && models.cached?.some((model) => model.id === target)) ??
      providers.find(({ config }) => config.models === '*')
    if (!serving) {
      const known = providers.flatMap(({ name, config }) => config.models === '*' ? [] : config.models.map((model) => `${name}/${model}`))
      throw new ToolError('model_not_found', `No provider serves model "${name}". Models: ${[...Object.keys(this.config.aliases), ...known].join(', ')}. Call list_models to see them all.`, { retryable: false })
    }
    return { provider: serving, model: target }
  }

  /**
   * Denied when any name of the model matches denyModels; allowed when allowModels is empty or any
   * of its names matches it.
   */
  #allows (requested: string, target: RouteTarget): boolean {
    const names = namesOf(requested, target)
    if (anyModelMatches(names, this.#deny)) return false
    return this.#allow.length === 0 || anyModelMatches(names, this.#allow)
  }
}

/** Whether any name of the model matches the client's allow-list; a client without one may call any model. */
function clientAllows ({ models }: Client, requested: string, target: RouteTarget): boolean {
  return !models || anyModelMatches(namesOf(requested, target), models.patterns)
}

/** The names an allow or deny list may give a model by: as requested, as `provider/model`, and its bare id. */
function namesOf (requested: string, { provider, model }: RouteTarget): string[] {
  return [requested, `${provider.name}/${model}`, model]
}
