/**
 * What a model family accepts, decided from the model id alone. This is the one place that knows
 * which parameters a family rejects (chat models here, image models below). Ids it does not
 * recognise (other providers' models) get every parameter the caller gave, and the upstream's own
 * refusal is returned if it has one.
 */
export interface ModelTraits {
  /** `temperature` and `top_p`: refused by reasoning models. */
  acceptsSampling: boolean
  /** `reasoning_effort`: reasoning models only. */
  acceptsReasoningEffort: boolean
  /** `verbosity`: the GPT-5 family only. */
  acceptsVerbosity: boolean
  /** Chat Completions' output limit: reasoning models refuse `max_tokens`. */
  maxTokensField: 'max_tokens' | 'max_completion_tokens'
}

const unknownModel: ModelTraits = { acceptsSampling: true, acceptsReasoningEffort: true, acceptsVerbosity: true, maxTokensField: 'max_tokens' }

// Aggregators prefix the vendor ("openai/gpt-5"); the family is in the last segment.
function familyId (model: string): string {
  return model.slice(model.lastIndexOf('/') + 1).toLowerCase()
}

export function modelTraits (model: string): ModelTraits {
  const id = familyId(model)
  if (/^(gpt-4|gpt-3\.5|chatgpt-|gpt-5-chat)/.test(id)) {
    return { acceptsSampling: true, acceptsReasoningEffort: false, acceptsVerbosity: false, maxTokensField: 'max_tokens' }
  }
  if (/^gpt-5/.test(id)) {
    return { acceptsSampling: false, acceptsReasoningEffort: true, acceptsVerbosity: true, maxTokensField: 'max_completion_tokens' }
  }
  if (/^o\d/.test(id)) {
    return { acceptsSampling: false, acceptsReasoningEffort: true, acceptsVerbosity: false, maxTokensField: 'max_completion_tokens' }
  }
  return unknownModel
}

export interface ImageModelTraits {
  /** DALL·E answers with URLs unless asked for base64; GPT image models always send base64 and refuse the parameter. */
  needsBase64Request: boolean
  /** `output_format` (png, jpeg, webp): GPT image models only. */
  acceptsOutputFormat: boolean
  /** GPT image models are billed by tokens, and report them; DALL·E by the image, and reports none. */
  billedByTokens: boolean
}

export function imageModelTraits (model: string): ImageModelTraits {
  const id = familyId(model)
  if (id.startsWith('dall-e')) return { needsBase64Request: true, acceptsOutputFormat: false, billedByTokens: false }
  if (id.startsWith('gpt-image')) return { needsBase64Request: false, acceptsOutputFormat: true, billedByTokens: true }
  // Other providers' image models mostly follow DALL·E's API, where base64 must be asked for.
  return { needsBase64Request: true, acceptsOutputFormat: false, billedByTokens: false }
}
