import type { CallToolResult, Tool, ToolAnnotations } from '@modelcontextprotocol/server'
import type { Tracer } from '@opentelemetry/api'
import { type Static, type TObject, Type } from '@sinclair/typebox'
import { Ajv } from 'ajv'
import type { FastifyBaseLogger } from 'fastify'
import type { Client } from '../access/client-keys.js'
import type { RouterConfig } from '../config.js'
import { ToolError } from '../errors.js'
import type { CallRecord } from '../observability/call-record.js'
import type { RouterMetrics } from '../observability/metrics.js'
import type { CallBudget } from './call-budget.js'
import { describeValidationErrors } from '../validation-errors.js'
import type { ClientLog } from './client-log.js'
import type { CallProgress } from './progress.js'

/**
 * One tool call's own scope, made for it by the tool runtime: who made it, how its client is
 * reached, and what it did. What a tool uses besides (providers, cache, settings) it closes over
 * when it is bound to its services ({@link ToolSpec.handler}).
 */
export interface CallScope {
  requestId: string
  /** Aborted when the client cancels, its connection closes, or the router shuts down. */
  signal: AbortSignal
  /** The client whose key the call came with; undefined when the router runs open. */
  client: Client | undefined
  /**
   * Whom the call counts as for its share of what every caller shares (the schema checker's
   * queue): its client, or on an open router the address it came from (anonymous over stdio).
   */
  caller: string
  log: FastifyBaseLogger
  /** What this call did (models, tokens, upstream time), for its log line, metrics and trace. */
  record: CallRecord
  /** Progress notifications for this call; inert unless the client sent a progress token. */
  progress: CallProgress
  /** Log messages for the client about this call; silent unless the client chose a level. */
  clientLog: ClientLog
  /** The call's share of its client's budgets: a tool that spends reserves its estimate here first. */
  budget: CallBudget
}

/** What every tool's upstream calls share: their telemetry, and the router's limits for them. */
export interface UpstreamServices {
  metrics: RouterMetrics
  tracer: Tracer
  settings: Pick<RouterConfig, 'UPSTREAM_TIMEOUT_MS' | 'UPSTREAM_MAX_RETRIES' | 'UPSTREAM_RETRY_BASE_MS'>
}

/** The `timeout_ms` argument of tools whose calls can be long: their upstream call's deadline (Deadline.forCall). */
export const TimeoutArgument = Type.Optional(Type.Integer({ minimum: 1, description: 'Time limit for this call, in ms; capped at the router\'s UPSTREAM_TIMEOUT_MS.' }))

export type ToolHandler<Input extends TObject> = (args: Static<Input>, call: CallScope) => Promise<CallToolResult>

export interface ToolSpec<Input extends TObject, Services> {
  name: string
  title: string
  description: string
  inputSchema: Input
  outputSchema?: TObject
  annotations?: ToolAnnotations
  /** The tool's handler, closing over the services and settings it uses. */
  handler: (services: Services) => ToolHandler<Input>
}

/** A tool as `tools/list` shows it, to be bound to the services it runs with. */
export interface ToolDefinition<Services> {
  name: string
  /** The entry published by `tools/list`. */
  definition: Tool
  bind: (services: Services) => RouterTool
}

export interface RouterTool {
  name: string
  definition: Tool
  /** Validates `args` against the input schema, then runs the tool; invalid arguments throw `invalid_arguments`. */
  call: (args: unknown, call: CallScope) => Promise<CallToolResult>
}

// One compiler for every tool schema, used at module load: arguments are never compiled per call.
const ajv = new Ajv({ allErrors: true, verbose: true })

/**
 * The deepest nesting of objects and arrays a call's arguments may have. Real arguments, JSON
 * Schemas in `tools` and `response_format` included, stay far above it (OpenAI allows schemas 10
 * levels deep); thousands of levels would overflow the stack of whatever walks them next.
 */
const MAX_ARGUMENT_DEPTH = 64

/** Whether `value` nests objects or arrays more than `maxDepth` levels deep; walked without recursion. */
function nestedDeeperThan (value: unknown, maxDepth: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]]
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, depth] = next
    if (typeof item !== 'object' || item === null) continue
    if (depth > maxDepth) return true
    for (const child of Object.values(item)) pending.push([child, depth + 1])
  }
  return false
}

export function defineTool<Input extends TObject, Services = void> (
  spec: ToolSpec<Input, Services>
): ToolDefinition<Services> {
  const validate = ajv.compile<Static<Input>>(spec.inputSchema)
  const definition: Tool = {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    inputSchema: spec.inputSchema as Tool['inputSchema'],
    ...(spec.outputSchema && { outputSchema: spec.outputSchema as Tool['outputSchema'] }),
    ...(spec.annotations && { annotations: { title: spec.title, ...spec.annotations } }),
  }
  const checked = (args: unknown): Static<Input> => {
    const input = args ?? {}
    if (nestedDeeperThan(input, MAX_ARGUMENT_DEPTH)) {
      throw new ToolError('invalid_arguments', `Invalid arguments for ${spec.name}: they nest more than ${MAX_ARGUMENT_DEPTH} levels deep (JSON Schemas in tools and response_format included); flatten them.`, { retryable: false })
    }
    if (!validate(input)) {
      throw new ToolError('invalid_arguments', `Invalid arguments for ${spec.name}: ${describeValidationErrors(validate.errors)}.`, { retryable: false })
    }
    return input
  }
  return {
    name: spec.name,
    definition,
    bind (services) {
      const run = spec.handler(services)
      return { name: spec.name, definition, call: async (args, call) => run(checked(args), call) }
    },
  }
}
