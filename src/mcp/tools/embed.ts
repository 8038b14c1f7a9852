import type { CallToolResult } from '@modelcontextprotocol/server'
import { Type } from '@sinclair/typebox'
import type { Route } from '../../routing/routing-table.js'
import { callRoute } from '../../routing/pipeline/upstream-pipeline.js'
import { createEmbeddings } from '../../upstream/embeddings.js'
import { CacheArgument, CacheOutput, cachedCall } from '../cached-call.js'
import { RoutingOutput, routingOutput } from '../routed-call.js'
import { embeddingEstimate } from '../spend-estimates.js'
import { defineTool, type ToolContext } from '../tool.js'
import { upstreamScope } from '../upstream-scope.js'

const Text = Type.String({ minLength: 1 })

export const embedTool = defineTool({
  name: 'embed',
  title: 'Embed text',
  description: 'Turns text into embedding vectors (the upstream /embeddings endpoint), for search, clustering or similarity. The vectors are in structuredContent.embeddings, one per input, in input order.',
  inputSchema: Type.Object({
    input: Type.Union([Text, Type.Array(Text, { minItems: 1, maxItems: 2048 })], { description: 'A text, or up to 2048 texts.' }),
    model: Type.Optional(Type.String({ minLength: 1, description: 'Embedding model; the router default (EMBEDDING_MODEL) when omitted.' })),
    dimensions: Type.Optional(Type.Integer({ minimum: 1, description: 'Shorter vectors, for models that support it (text-embedding-3-*).' })),
    cache: CacheArgument,
  }, { additionalProperties: false }),
  outputSchema: Type.Object({
    model: Type.String(),
    ...RoutingOutput,
    ...CacheOutput,
    dimensions: Type.Integer({ description: 'Length of each vector.' }),
    embeddings: Type.Array(Type.Object({
      index: Type.Integer({ description: 'Position of the input this vector belongs to.' }),
      embedding: Type.Array(Type.Number()),
    })),
    usage: Type.Optional(Type.Object({ inputTokens: Type.Integer(), totalTokens: Type.Integer() })),
  }),
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
  async run ({ input, model: requested, dimensions, cache }, context) {
    const { config } = context
    const route = context.routing.route(requested ?? config.EMBEDDING_MODEL, context.client)
    const [target] = route.targets
    await context.budget.reserve(embeddingEstimate(input, target.model))
    return cachedCall(context, {
      mode: cache,
      deterministic: true,
      request: { tool: 'embed', provider: target.provider.name, model: target.model, input, dimensions },
      complete: () => true,
    }, async () => embed(context, route, input, dimensions))
  },
})

async function embed (context: ToolContext, route: Route, input: string | string[], dimensions: number | undefined): Promise<CallToolResult> {
  const { requestId } = context
  const { value: result } = await callRoute(
    upstreamScope(context),
    route,
    { name: 'embeddings', operation: `embedding with ${route.requested}` },
    (target, signal) => createEmbeddings(target.provider.client, { model: target.model, input, ...(dimensions !== undefined && { dimensions }) }, { signal, requestId })
  )
  context.record.answered(result.model, result.usage)
  const length = result.vectors[0]?.length ?? 0
  const count = result.vectors.length
  // The numbers stay out of the text: a model reading this result needs the summary, not megabytes of floats.
  const summary = `${count} embedding${count === 1 ? '' : 's'} of ${length} dimensions from ${result.model}${result.usage ? ` (${result.usage.inputTokens} input tokens)` : ''}; the vectors are in structuredContent.embeddings.`
  return {
    content: [{ type: 'text', text: summary }],
    structuredContent: {
      model: result.model,
      ...routingOutput(context.record),
      dimensions: length,
      embeddings: result.vectors.map((embedding, index) => ({ index, embedding })),
      ...(result.usage && { usage: result.usage }),
    },
  }
}
