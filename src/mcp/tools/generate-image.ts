import type { CallToolResult } from '@modelcontextprotocol/server'
import { Type } from '@sinclair/typebox'
import type { ModelRouter } from '../../routing/model-router.js'
import { callRoute } from '../../routing/pipeline/upstream-pipeline.js'
import { generateImages, type ImageResult } from '../../upstream/images.js'
import { StringEnum } from '../../schemas.js'
import { imageEstimate } from '../spend-estimates.js'
import { defineTool, TimeoutArgument, type UpstreamServices } from '../tool.js'
import { upstreamScope } from '../upstream-scope.js'
import { type AnswerRouting, RoutingOutput } from './answer-routing.js'

/** What generate_image uses besides its call's own scope. */
export interface GenerateImageServices {
  router: Pick<ModelRouter, 'table'>
  upstream: UpstreamServices
  /** The model of a call that names none (IMAGE_MODEL). */
  defaultModel: string
}

/** What generate_image answers, before it is shown to the client ({@link imageToolResult}). */
export interface ImageAnswer {
  result: ImageResult
  routing: AnswerRouting
}

export const generateImageTool = defineTool({
  name: 'generate_image',
  title: 'Generate an image',
  description: 'Creates images from a text prompt (the upstream /images/generations endpoint) and returns them as MCP image content (base64), with the prompt as the model revised it.',
  inputSchema: Type.Object({
    prompt: Type.String({ minLength: 1, maxLength: 32_000, description: 'What to draw.' }),
    model: Type.Optional(Type.String({ minLength: 1, description: 'Image model; the router default (IMAGE_MODEL, gpt-image-1) when omitted.' })),
    size: Type.Optional(StringEnum(['auto', '1024x1024', '1536x1024', '1024x1536', '256x256', '512x512', '1792x1024', '1024x1792'] as const, { description: 'Width x height; which sizes a model takes varies (gpt-image-1: auto, 1024x1024, 1536x1024, 1024x1536).' })),
    quality: Type.Optional(StringEnum(['auto', 'low', 'medium', 'high', 'standard', 'hd'] as const, { description: 'gpt-image-1: low, medium, high, auto; dall-e-3: standard, hd.' })),
    n: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, description: 'How many images, 1 to 10.' })),
    output_format: Type.Optional(StringEnum(['png', 'jpeg', 'webp'] as const, { description: 'GPT image models: the file format.' })),
    timeout_ms: TimeoutArgument,
  }, { additionalProperties: false }),
  outputSchema: Type.Object({
    model: Type.String(),
    ...RoutingOutput,
    images: Type.Array(Type.Object({
      index: Type.Integer(),
      mimeType: Type.String(),
      url: Type.Optional(Type.String({ description: 'Only when the upstream gave a URL instead of the bytes.' })),
      revisedPrompt: Type.Optional(Type.String()),
    }), { description: 'One entry per image, in the order of the image content blocks.' }),
    usage: Type.Optional(Type.Object({
      inputTokens: Type.Integer(),
      outputTokens: Type.Integer(),
      totalTokens: Type.Integer(),
    })),
  }),
  annotations: { readOnlyHint: true, idempotentHint: false, openWorldHint: true },
  handler: ({ router, upstream, defaultModel }: GenerateImageServices) => async (args, call) => {
    const { requestId, record } = call
    const route = router.table.route(args.model ?? defaultModel, call.client)
    await call.budget.reserve(imageEstimate({ ...args, model: route.targets[0].model }))
    const { value: result } = await callRoute(
      upstreamScope(upstream, call, args.timeout_ms),
      route,
      { name: 'generate_image', operation: `image generation with ${route.requested}` },
      (target, signal) => generateImages(target.provider.client, {
        model: target.model,
        prompt: args.prompt,
        ...(args.size && { size: args.size }),
        ...(args.quality && { quality: args.quality }),
        ...(args.n !== undefined && { n: args.n }),
        ...(args.output_format && { outputFormat: args.output_format }),
      }, { signal, requestId })
    )
    record.answered(result.model, result.usage)
    record.imagesMade({ count: result.images.length, size: args.size, quality: args.quality })
    return imageToolResult({ result, routing: record.routing() })
  },
})

/** Images as an MCP result: each image as image content (or a link, when only a URL came), then a summary. */
export function imageToolResult ({ result, routing }: ImageAnswer): CallToolResult {
  const content: CallToolResult['content'] = result.images.map((image, index) => image.base64
    ? { type: 'image', data: image.base64, mimeType: image.mimeType }
    : { type: 'resource_link', uri: image.url ?? '', name: `image-${index + 1}`, mimeType: image.mimeType })
  const revised = [...new Set(result.images.flatMap((image) => image.revisedPrompt ?? []))]
  content.push({ type: 'text', text: `${result.images.length} image${result.images.length === 1 ? '' : 's'} from ${result.model}.${revised.length ? ` Revised prompt: ${revised.join(' | ')}` : ''}` })
  return {
    content,
    structuredContent: {
      model: result.model,
      ...routing,
      images: result.images.map(({ mimeType, url, revisedPrompt }, index) => ({
        index,
        mimeType,
        ...(url && { url }),
        ...(revisedPrompt && { revisedPrompt }),
      })),
      ...(result.usage && { usage: result.usage }),
    },
  }
}
