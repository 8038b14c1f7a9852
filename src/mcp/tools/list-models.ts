import { Type } from '@sinclair/typebox'
import { listModels } from '../../upstream/models.js'
import { defineTool, upstreamCall } from '../tool.js'

export const listModelsTool = defineTool({
  name: 'list_models',
  title: 'List models',
  description: 'Lists the models the upstream offers (its /models endpoint), so you can pick one for the `model` argument of `chat`. Also names the default model.',
  inputSchema: Type.Object({
    contains: Type.Optional(Type.String({ minLength: 1, description: 'Only models whose id contains this text (case-insensitive), e.g. "gpt-4.1".' })),
  }, { additionalProperties: false }),
  outputSchema: Type.Object({
    defaultModel: Type.String({ description: 'The model chat uses when none is named.' }),
    models: Type.Array(Type.Object({
      id: Type.String(),
      ownedBy: Type.Optional(Type.String()),
      created: Type.Optional(Type.Integer({ description: 'Unix time the model was created.' })),
    })),
  }),
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
  async run ({ contains }, context) {
    const { openai, config, requestId } = context
    const all = await upstreamCall(context, { name: 'list_models', operation: 'listing models' }, (signal) => listModels(openai, { signal, requestId }))
    const needle = contains?.toLowerCase()
    const models = needle ? all.filter((model) => model.id.toLowerCase().includes(needle)) : all
    const ids = models.map((model) => model.id)
    const summary = ids.length
      ? `${ids.length} model${ids.length === 1 ? '' : 's'} (default: ${config.MODEL}):\n${ids.join('\n')}`
      : `No models${needle ? ` matching "${contains}"` : ''} at the upstream (default: ${config.MODEL}).`
    return { content: [{ type: 'text', text: summary }], structuredContent: { defaultModel: config.MODEL, models } }
  },
})
