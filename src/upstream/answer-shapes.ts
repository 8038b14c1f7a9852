import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { Ajv, type ValidateFunction } from 'ajv'
import type { APIPromise } from 'openai'
import { describeValidationErrors } from '../validation-errors.js'
import { invalidResponse } from './errors.js'
import { answerText } from './upstream-fetch.js'

/*
 * What the router reads of a successful answer, and nothing more: other fields may be anything.
 * An upstream that sends `null`, a string or an `output` that is no list is not OpenAI-compatible,
 * and the call fails as upstream_invalid_response (a fallback may take it), not as a router bug.
 */

const answerAjv = new Ajv({ allErrors: true, strict: false })

/** Items of one `type` must also match `shape`. */
function whenType (type: string, shape: TSchema) {
  return { if: { type: 'object', properties: { type: { const: type } }, required: ['type'] }, then: shape }
}

const ResponseOutputItem = Type.Object({ type: Type.String() }, {
  allOf: [
    whenType('message', Type.Object({
      content: Type.Array(Type.Object({
        type: Type.String(),
        text: Type.Optional(Type.String()),
        refusal: Type.Optional(Type.String()),
      })),
    })),
    whenType('function_call', Type.Object({ call_id: Type.String(), name: Type.String(), arguments: Type.String() })),
  ],
})

const ResponseShape = Type.Object({
  id: Type.String(),
  model: Type.String(),
  status: Type.Optional(Type.String()),
  output: Type.Array(ResponseOutputItem),
  incomplete_details: Type.Optional(Type.Union([Type.Null(), Type.Object({ reason: Type.Optional(Type.String()) })])),
  error: Type.Optional(Type.Union([Type.Null(), Type.Object({ message: Type.Optional(Type.String()) })])),
})

const Nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]))

const ChatCompletionShape = Type.Object({
  id: Type.String(),
  model: Type.String(),
  choices: Type.Array(Type.Object({
    finish_reason: Nullable(Type.String()),
    message: Type.Object({
      content: Nullable(Type.String()),
      refusal: Nullable(Type.String()),
      tool_calls: Nullable(Type.Array(Type.Object({ id: Type.String(), type: Type.String() }, {
        allOf: [whenType('function', Type.Object({ function: Type.Object({ name: Type.String(), arguments: Type.String() }) }))],
      }))),
    }),
  }), { minItems: 1 }),
})

const ImagesShape = Type.Object({
  data: Type.Array(Type.Object({
    b64_json: Nullable(Type.String()),
    url: Nullable(Type.String()),
    revised_prompt: Nullable(Type.String()),
  })),
  output_format: Nullable(Type.String()),
})

const EmbeddingsShape = Type.Object({
  model: Nullable(Type.String()),
  // base64 (what the router asks for) or the floats some compatible servers send anyway.
  data: Type.Array(Type.Object({
    index: Type.Integer({ minimum: 0 }),
    embedding: Type.Union([Type.String(), Type.Array(Type.Number())]),
  })),
})

/** An embeddings answer as checked: each vector base64 or numbers. */
export type EmbeddingsAnswer = Static<typeof EmbeddingsShape> & {
  usage?: { prompt_tokens?: unknown, total_tokens?: unknown } | null
}

const validResponse = answerAjv.compile(ResponseShape)
const validChatCompletion = answerAjv.compile(ChatCompletionShape)
const validImages = answerAjv.compile(ImagesShape)
const validEmbeddings = answerAjv.compile(EmbeddingsShape)

/**
 * Checks a parsed answer against what the router reads of it; `T` is the SDK's type for it, which
 * the checked fields then honour. Throws upstream_invalid_response naming the first fields amiss.
 */
function checked<T> (answer: unknown, validate: ValidateFunction, api: string): T {
  if (validate(answer)) return answer as T
  if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) throw invalidResponse(`a ${api} answer that is ${jsonKind(answer)} instead of an object`)
  throw invalidResponse(`a ${api} answer that does not fit it: ${describeValidationErrors(validate.errors?.slice(0, 3))}`)
}

function jsonKind (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  return typeof value === 'number' ? 'a number' : typeof value === 'string' ? 'a string' : `a ${typeof value}`
}

export function checkedResponse<T> (answer: unknown): T {
  return checked<T>(answer, validResponse, 'Responses API')
}

export function checkedChatCompletion<T> (answer: unknown): T {
  return checked<T>(answer, validChatCompletion, 'Chat Completions')
}

export function checkedImages<T> (answer: unknown): T {
  return checked<T>(answer, validImages, 'image generation')
}

export function checkedEmbeddings (answer: unknown): EmbeddingsAnswer {
  return checked<EmbeddingsAnswer>(answer, validEmbeddings, 'embeddings')
}

/**
 * The JSON body of a successful non-streamed answer, unread by the SDK: its own post-processing
 * (the Responses API's `output_text`) assumes the shape the router has yet to check. An SSE stream
 * where one answer was asked for is refused here.
 */
export async function jsonAnswer (call: APIPromise<unknown>): Promise<unknown> {
  const response = await call.asResponse()
  if (response.headers.get('content-type')?.includes('event-stream')) {
    await response.body?.cancel()
    throw invalidResponse('an SSE stream to a call that asked for one JSON answer')
  }
  return JSON.parse(await answerText(response)) as unknown
}
