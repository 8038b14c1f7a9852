import type { PricedUsage } from '../observability/prices.js'
import type { ChatRequest, ContentPart } from '../upstream/chat-types.js'
import { imageModelTraits } from '../upstream/model-family.js'

/**
 * What a call is expected to spend, reserved against its client's budgets when it is admitted and
 * replaced by what the upstream reports when it ends. Deliberately simple and on the high side:
 * about four characters of text per token (OpenAI's rule of thumb for English), a fixed
 * allowance per image, and the answer's upper bound.
 */
const CHARACTERS_PER_TOKEN = 4

/** Tokens of one input image: a high-detail 1024×1024 image costs GPT-4o about 765, a 2048×2048 one about 1105. */
export const TOKENS_PER_INPUT_IMAGE = 1100

/** The estimated tokens of `characters` characters of text. */
export function characterTokens (characters: number): number {
  return Math.ceil(characters / CHARACTERS_PER_TOKEN)
}

/** The estimated tokens of a text. */
function textTokens (text: string): number {
  return characterTokens(text.length)
}

/** The estimated input tokens of a chat request: its text, tool definitions and response schema, and its images. */
export function chatInputTokens (request: ChatRequest): number {
  const parts: ContentPart[] = request.messages.flatMap((message) => typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content)
  const text = [
    request.instructions ?? '',
    ...parts.map((part) => part.type === 'text' ? part.text : ''),
    ...request.messages.flatMap((message) => message.role === 'assistant' ? (message.toolCalls ?? []).map((call) => call.arguments) : []),
    ...(request.toolOutputs ?? []).map(({ output }) => output),
    request.tools ? JSON.stringify(request.tools) : '',
    request.responseFormat ? JSON.stringify(request.responseFormat) : '',
  ].join('')
  return textTokens(text) + parts.filter((part) => part.type === 'image').length * TOKENS_PER_INPUT_IMAGE
}

/** The estimate of a chat call to `model`: its input, and its `max_tokens` or else `defaultOutputTokens`. */
export function chatEstimate (request: ChatRequest, model: string, defaultOutputTokens: number): PricedUsage {
  return { model, inputTokens: chatInputTokens(request), outputTokens: request.maxOutputTokens ?? defaultOutputTokens }
}

/** The estimate of an embeddings call: its input texts (embeddings have no output). */
export function embeddingEstimate (input: string | string[], model: string): PricedUsage {
  return { model, inputTokens: [input].flat().reduce((sum, text) => sum + textTokens(text), 0), outputTokens: 0 }
}

// GPT image models' output tokens per image, by size and quality (OpenAI's image generation guide);
// `auto` may pick the largest and the best, so it is estimated as those.
const IMAGE_OUTPUT_TOKENS: Record<string, Record<string, number>> = {
  '1024x1024': { low: 272, medium: 1056, high: 4160 },
  '1024x1536': { low: 408, medium: 1584, high: 6240 },
  '1536x1024': { low: 400, medium: 1568, high: 6208 },
}

/** The estimate of an image generation: the prompt, the images, and for models billed by tokens each image's output. */
export interface ImageEstimateRequest {
  model: string
  prompt: string
  size?: string | undefined
  quality?: string | undefined
  n?: number | undefined
}

export function imageEstimate ({ model, prompt, size, quality, n }: ImageEstimateRequest): PricedUsage {
  const images = { count: n ?? 1, size, quality }
  const inputTokens = textTokens(prompt)
  if (!imageModelTraits(model).billedByTokens) return { model, inputTokens, outputTokens: 0, images }
  const bySize = IMAGE_OUTPUT_TOKENS[size ?? ''] ?? IMAGE_OUTPUT_TOKENS['1024x1536'] as Record<string, number>
  const perImage = bySize[quality ?? ''] ?? bySize.high ?? 0
  return { model, inputTokens, outputTokens: images.count * perImage, images }
}
