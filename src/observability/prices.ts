import { type Static, Type } from '@sinclair/typebox'

export const ModelPriceSchema = Type.Object({
  input: Type.Number({ minimum: 0, description: 'USD per million input tokens' }),
  output: Type.Number({ minimum: 0, description: 'USD per million output tokens' }),
}, { additionalProperties: false })

export type ModelPrice = Static<typeof ModelPriceSchema>

export const ModelPricesSchema = Type.Record(Type.String({ minLength: 1 }), ModelPriceSchema)

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

// Upstreams answer with dated snapshots ("gpt-4.1-mini-2025-04-14") of the models they were asked for.
const snapshotSuffix = /-\d{4}-\d{2}-\d{2}$/

/** Prices by model: the defaults, overridden by the operator's table. */
export class PriceTable {
  readonly #prices: Map<string, ModelPrice>

  constructor (overrides: Record<string, ModelPrice> = {}) {
    this.#prices = new Map(Object.entries({ ...defaultPrices, ...overrides }))
  }

  get models (): string[] {
    return [...this.#prices.keys()]
  }

  /** The estimated cost in USD, or `undefined` for a model without a price. */
  costOf (model: string, inputTokens: number, outputTokens: number): number | undefined {
    const price = this.#prices.get(model) ?? this.#prices.get(model.replace(snapshotSuffix, ''))
    if (!price) return undefined
    return (inputTokens * price.input + outputTokens * price.output) / 1_000_000
  }
}
