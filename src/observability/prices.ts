import { type Static, Type } from '@sinclair/typebox'

export const ModelPriceSchema = Type.Object({
  input: Type.Number({ minimum: 0, description: 'USD per million input tokens' }),
  output: Type.Number({ minimum: 0, description: 'USD per million output tokens' }),
}, { additionalProperties: false })

export type ModelPrice = Static<typeof ModelPriceSchema>

export const ModelPricesSchema = Type.Record(Type.String({ minLength: 1 }), ModelPriceSchema)

/** USD per image of a model billed by the image, by quality, then size: {"standard": {"1024x1024": 0.04}}. */
export const ImagePriceSchema = Type.Record(
  Type.String({ minLength: 1, description: 'quality: standard, hd, ...' }),
  Type.Record(Type.String({ pattern: '^\\d+x\\d+$' }), Type.Number({ minimum: 0, description: 'USD per image' }), { minProperties: 1, additionalProperties: false }),
  { minProperties: 1 }
)

export type ImagePrice = Static<typeof ImagePriceSchema>

export const ImagePricesSchema = Type.Record(Type.String({ minLength: 1 }), ImagePriceSchema)

/**
 * OpenAI's list prices (standard tier, USD per million tokens) for common models. They change;
 * MODEL_PRICES overrides or extends them, and the cost metric is an estimate either way.
 */
const defaultPrices: Record<string, ModelPrice> = {
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  o1: { input: 15, output: 60 },
  o3: { input: 2, output: 8 },
  'o3-mini': { input: 1.1, output: 4.4 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'gpt-image-1': { input: 5, output: 40 },
  'text-embedding-3-small': { input: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0 },
  'text-embedding-ada-002': { input: 0.1, output: 0 },
}

/**
 * OpenAI's list prices of the models billed by the image (USD per image, by quality and size). GPT
 * image models are billed by tokens, and priced above. IMAGE_PRICES overrides or extends them.
 */
const defaultImagePrices: Record<string, ImagePrice> = {
  'dall-e-3': {
    standard: { '1024x1024': 0.04, '1024x1792': 0.08, '1792x1024': 0.08 },
    hd: { '1024x1024': 0.08, '1024x1792': 0.12, '1792x1024': 0.12 },
  },
  'dall-e-2': {
    standard: { '256x256': 0.016, '512x512': 0.018, '1024x1024': 0.02 },
  },
}

/** What one call used, as far as prices go: the model, its tokens, and the images it made. */
export interface PricedUsage {
  model: string
  inputTokens: number
  outputTokens: number
  images?: ImageOrder | undefined
}

/** Images asked of a model: how many, and the size and quality (the model's defaults when unset). */
export interface ImageOrder {
  count: number
  size?: string | undefined
  quality?: string | undefined
}

// Upstreams answer with dated snapshots ("gpt-4.1-mini-2025-04-14") of the models they were asked for.
const snapshotSuffix = /-\d{4}-\d{2}-\d{2}$/

/**
 * Prices by model: the defaults, overridden by the operator's tables. The cost metric and USD
 * budgets both count from here.
 */
export class PriceTable {
  readonly #prices: Map<string, ModelPrice>
  readonly #imagePrices: Map<string, ImagePrice>

  constructor (overrides: Record<string, ModelPrice> = {}, imageOverrides: Record<string, ImagePrice> = {}) {
    this.#prices = new Map(Object.entries({ ...defaultPrices, ...overrides }))
    this.#imagePrices = new Map(Object.entries({ ...defaultImagePrices, ...imageOverrides }))
  }

  get models (): string[] {
    return [...new Set([...this.#prices.keys(), ...this.#imagePrices.keys()])]
  }

  /** The estimated cost in USD of a model's tokens, or `undefined` for a model without a token price. */
  costOf (model: string, inputTokens: number, outputTokens: number): number | undefined {
    const price = lookUp(this.#prices, model)
    if (!price) return undefined
    return (inputTokens * price.input + outputTokens * price.output) / 1_000_000
  }

  /**
   * The estimated cost in USD of one call: per image for a model billed by the image (a size or
   * quality the table lacks costs the model's dearest image), by tokens otherwise; `undefined`
   * for a model without a price.
   */
  costOfCall ({ model, inputTokens, outputTokens, images }: PricedUsage): number | undefined {
    const perImage = images && lookUp(this.#imagePrices, model)
    if (images && perImage) return images.count * imagePrice(perImage, images)
    return this.costOf(model, inputTokens, outputTokens)
  }
}

function lookUp<T> (prices: Map<string, T>, model: string): T | undefined {
  return prices.get(model) ?? prices.get(model.replace(snapshotSuffix, ''))
}

function imagePrice (prices: ImagePrice, { size, quality }: ImageOrder): number {
  // The APIs' defaults: standard quality (auto picks it for DALL·E 3), 1024x1024.
  const byQuality = prices[!quality || quality === 'auto' ? 'standard' : quality]
  const exact = byQuality?.[!size || size === 'auto' ? '1024x1024' : size]
  return exact ?? Math.max(...Object.values(prices).flatMap((sizes) => Object.values(sizes)))
}
