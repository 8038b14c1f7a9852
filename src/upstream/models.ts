import type OpenAI from 'openai'
import { type UpstreamRequestContext, upstreamRequestOptions } from './request-options.js'

export interface UpstreamModel {
  id: string
  ownedBy?: string
  created?: number
}

/** The upstream's `/models`, every page of it, sorted by id. */
export async function listModels (openai: OpenAI, context: UpstreamRequestContext): Promise<UpstreamModel[]> {
  const models: UpstreamModel[] = []
  for await (const model of openai.models.list(upstreamRequestOptions(context))) {
    models.push({
      id: model.id,
      ...(model.owned_by && { ownedBy: model.owned_by }),
      ...(typeof model.created === 'number' && { created: model.created }),
    })
  }
  return models.sort((a, b) => a.id.localeCompare(b.id))
}
