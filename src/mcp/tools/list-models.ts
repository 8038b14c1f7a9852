import { Type } from '@sinclair/typebox'
import type { ModelRouter } from '../../routing/model-router.js'
import { defineTool } from '../tool.js'

/** What list_models uses besides its call's own scope. */
export interface ListModelsServices {
  router: Pick<ModelRouter, 'table'>
  /** The model chat uses when a call names none (MODEL). */
  defaultModel: string
}

export const listModelsTool = defineTool({
  name: 'list_models',
  title: 'List models',
  description: 'Lists the models you can call, so you can pick one for the `model` argument of `chat`, `embed` or `generate_image`: each with the provider that serves it, its `provider/model` name and its aliases, from the providers\' /models (cached). Also names the default model and the aliases.',
  inputSchema: Type.Object({
    contains: Type.Optional(Type.String({ minLength: 1, description: 'Only models whose id, provider/model name or alias contains this text (case-insensitive), e.g. "gpt-4.1".' })),
  }, { additionalProperties: false }),
  outputSchema: Type.Object({
    defaultModel: Type.String({ description: 'The model chat uses when none is named.' }),
    models: Type.Array(Type.Object({
      id: Type.String({ description: 'The model id at its provider.' }),
      provider: Type.String(),
      route: Type.String({ description: 'provider/model: a name that always reaches this model.' }),
      aliases: Type.Optional(Type.Array(Type.String())),
      ownedBy: Type.Optional(Type.String()),
      created: Type.Optional(Type.Integer({ description: 'Unix time the model was created.' })),
    })),
    aliases: Type.Record(Type.String(), Type.String(), { description: 'Alias → the model it stands for.' }),
    unavailable: Type.Optional(Type.Array(Type.Object({ provider: Type.String(), error: Type.String() }), { description: 'Providers whose model list could not be fetched; their models are missing above.' })),
  }),
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
  handler: ({ router, defaultModel }: ListModelsServices) => async ({ contains }, { requestId, client }) => {
    const routing = router.table
    const { models: all, unavailable } = await routing.routableModels(requestId, client)
    const needle = contains?.toLowerCase()
    const models = needle
      ? all.filter((model) => [model.id, model.route, ...(model.aliases ?? [])].some((name) =>
        name.toLowerCase().includes(needle)))
      : all
    // One provider: the bare ids, as its /models names them. Several: provider/model, which says where each one is.
    const several = routing.providers.size > 1
    const lines = models.map((model) => `${several ? model.route : model.id}${model.aliases ? ` (alias: ${model.aliases.join(', ')})` : ''}`)
    const missing = unavailable.map(({ provider, error }) => `\n(Provider ${provider} is missing: ${error})`).join('')
    const summary = lines.length
      ? `${lines.length} model${lines.length === 1 ? '' : 's'} (default: ${defaultModel}):\n${lines.join('\n')}${missing}`
      : `No models${needle ? ` matching "${contains}"` : ''} ${several ? 'at the providers' : 'at the upstream'} (default: ${defaultModel}).${missing}`
    return {
      content: [{ type: 'text', text: summary }],
      structuredContent: {
        defaultModel,
        models,
        aliases: routing.config.aliases,
        ...(unavailable.length > 0 && { unavailable }),
      },
    }
  },
})
