import type { CallToolResult } from '@modelcontextprotocol/server'
import { Type } from '@sinclair/typebox'
import type { ModelRouter } from '../../routing/model-router.js'
import { callRoute } from '../../routing/pipeline/upstream-pipeline.js'
import type { Route } from '../../routing/routing-table.js'
import type { ResponseCache } from '../../shared-state/response-cache.js'
import { createEmbeddings, type EmbeddingResult } from '../../upstream/embeddings.js'
import { CacheArgument, type CacheOutcome, CacheOutput, cachedAnswers, cachedCall } from '../cached-call.js'
import { embeddingEstimate } from '../spend-estimates.js'
import { type CallScope, defineTool, type UpstreamServices } from '../tool.js'
import { upstreamScope } from '../upstream-scope.js'
import { type AnswerRouting, AnswerRoutingShape, RoutingOutput } from './answer-routing.js'

/** What embed answers, before it is shown to the client ({@link embeddingToolResult}). */
export interface EmbeddingAnswer {
  result: EmbeddingResult
  routing: AnswerRouting
}

/** What embed uses besides its call's own scope. */
export interface EmbedServices {
  router: Pick<ModelRouter, 'table'>
  upstream: UpstreamServices
  /** Cached answers; undefined when CACHE_TTL_S is 0. */
  cache: ResponseCache | undefined
  /** The model of a call that names none (EMBEDDING_MODEL). */
  defaultModel: string
}

const cachedEmbeddings = cachedAnswers(Type.Object({
  result: Type.Object({
    model: Type.String(),
    vectors: Type.Array(Type.Array(Type.Number())),
    usage: Type.Optional(Type.Object({ inputTokens: Type.Integer(), totalTokens: Type.Integer() })),
  }),
  routing: AnswerRoutingShape,
}), (answer) => answer.result.model)

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
  handler: ({ router, upstream, cache: answers, defaultModel }: EmbedServices) => async (args, call) => {
    const { input, model: requested, dimensions, cache } = args
    const route = router.table.route(requested ?? defaultModel, call.client)
    const [target] = route.targets
    await call.budget.reserve(embeddingEstimate(input, target.model))
    const { answer, cache: outcome } = await cachedCall(answers, call.record, {
      answers: cachedEmbeddings,
      mode: cache,
      deterministic: true,
      request: { tool: 'embed', provider: target.provider.name, model: target.model, input, dimensions },
      complete: () => true,
    }, async () => embed(upstream, call, route, { input, dimensions }))
    return embeddingToolResult(answer, outcome)
  },
})

async function embed (
  upstream: UpstreamServices,
  call: CallScope,
  route: Route,
  { input, dimensions }: { input: string | string[], dimensions: number | undefined }
): Promise<EmbeddingAnswer> {
  const { requestId, record } = call
  const { value: result } = await callRoute(
    upstreamScope(upstream, call),
    route,
    { name: 'embeddings', operation: `embedding with ${route.requested}` },
    (target, signal) => createEmbeddings(
      target.provider.client,
      { model: target.model, input, ...(dimensions !== undefined && { dimensions }) },
      { signal, requestId }
    )
  )
  record.answered(result.model, result.usage)
  return { result, routing: record.routing() }
}

/** Embeddings as an MCP result: a summary as text, the vectors in `structuredContent`. */
export function embeddingToolResult ({ result, routing }: EmbeddingAnswer, cache: CacheOutcome): CallToolResult {
  const length = result.vectors[0]?.length ?? 0
  const count = result.vectors.length
  // The numbers stay out of the text: a model reading this result needs the summary, not megabytes of floats.
  const summary = `${count} embedding${count === 1 ? '' : 's'} of ${length} dimensions from ${result.model}${result.usage ? ` (${result.usage.inputTokens} input tokens)` : ''}; the vectors are in structuredContent.embeddings.`
  return {
    content: [{ type: 'text', text: summary }],
    structuredContent: {
      model: result.model,
      ...routing,
      dimensions: length,
      embeddings: result.vectors.map((embedding, index) => ({ index, embedding })),
      ...(result.usage && { usage: result.usage }),
      cache,
    },
  }
}
