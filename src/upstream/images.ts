import type OpenAI from 'openai'
import type { ImageGenerateParamsNonStreaming, ImagesResponse } from 'openai/resources/images'
import { checkedImages } from './answer-shapes.js'
import { imageModelTraits } from './model-family.js'
import { type UpstreamRequestContext, upstreamRequestOptions } from './request-options.js'
import { reportedUsage } from './token-usage.js'

export type ImageFormat = 'png' | 'jpeg' | 'webp'

export interface ImageRequest {
  model: string
  prompt: string
  size?: string
  quality?: string
  n?: number
  outputFormat?: ImageFormat
}

export interface GeneratedImage {
  /** Base64 bytes; absent when the upstream only gave a URL. */
  base64?: string
  url?: string
  mimeType: string
  revisedPrompt?: string
}

export interface ImageResult {
  model: string
  images: GeneratedImage[]
  usage?: { inputTokens: number, outputTokens: number, totalTokens: number }
}

export async function generateImages (
  openai: OpenAI,
  request: ImageRequest,
  context: UpstreamRequestContext
): Promise<ImageResult> {
  const traits = imageModelTraits(request.model)
  const params: ImageGenerateParamsNonStreaming = {
    model: request.model,
    prompt: request.prompt,
    ...(request.size && { size: request.size }),
    ...(request.quality && { quality: request.quality as ImageGenerateParamsNonStreaming['quality'] }),
    ...(request.n !== undefined && { n: request.n }),
    ...(request.outputFormat && traits.acceptsOutputFormat && { output_format: request.outputFormat }),
    ...(traits.needsBase64Request && { response_format: 'b64_json' }),
  }
  const response = checkedImages<ImagesResponse & Required<Pick<ImagesResponse, 'data'>>>(await openai.images.generate(params, upstreamRequestOptions(context)))
  const usage = reportedUsage(response.usage?.input_tokens, response.usage?.output_tokens, response.usage?.total_tokens)
  const mimeType = `image/${response.output_format ?? (traits.acceptsOutputFormat ? request.outputFormat : undefined) ?? 'png'}`
  return {
    model: request.model,
    images: response.data.map((image) => ({
      mimeType,
      ...(image.b64_json && { base64: image.b64_json }),
      ...(image.url && { url: image.url }),
      ...(image.revised_prompt && { revisedPrompt: image.revised_prompt }),
    })),
    ...(usage && { usage }),
  }
}
