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

const CHAT_API_PATHS = { responses: '/responses', chat_completions: '/chat/completions' } as const

/**
 * Asks for chat's API with an empty body: a server that has it refuses the body (400, no model)
 * without running anything, one that lacks it answers 404 or 405, which this throws as any
 * refusal. Readiness tells the two apart (errors.ts `lackedEndpoint`).
 */
export async function probeChatApi (
  openai: OpenAI,
  api: keyof typeof CHAT_API_PATHS,
  context: UpstreamRequestContext
): Promise<void> {
  await openai.post(CHAT_API_PATHS[api], { body: {}, ...upstreamRequestOptions(context) })
}
