import type { CallToolResult, Tool, ToolAnnotations } from '@modelcontextprotocol/server'
import type { Tracer } from '@opentelemetry/api'
import { type Static, type TObject, Type } from '@sinclair/typebox'
import { Ajv } from 'ajv'
import type { FastifyBaseLogger } from 'fastify'
import type { Client } from '../access/client-keys.js'
import type { RouterConfig } from '../config.js'
import type { Downstream } from '../downstream/downstream.js'
import { ToolError } from '../errors.js'
import type { CallRecord } from '../observability/call-record.js'
import type { RouterMetrics } from '../observability/metrics.js'
import type { RoutingTable } from '../routing/routing-table.js'
import type { ResponseCache } from '../shared-state/response-cache.js'
import type { ResponseOwners } from '../shared-state/response-owners.js'
import type { CallBudget } from './call-budget.js'
import { describeValidationErrors } from '../validation-errors.js'
import type { ClientLog } from './client-log.js'
import type { CallProgress } from './progress.js'
import type { SchemaChecker } from './schemas/schema-checker.js'

/** What a tool may use while it runs: the providers, the configuration, and the call's own identity. */
export interface ToolContext {
  /** The routing table in force when the call started; a reload does not change it under the call. */
  routing: RoutingTable
  config: RouterConfig
  /** The client whose key the call came with; undefined when the router runs open. */
  client: Client | undefined
  /**
   * Whom the call counts as for its share of what every caller shares (the schema checker's
   * queue): its client, or on an open router the address it came from (anonymous over stdio).
   */
  caller: string
  log: FastifyBaseLogger
  /** Downstream MCP servers whose tools chat can run for the model. */
  downstream: Downstream
  metrics: RouterMetrics
  tracer: Tracer
  /** Cached chat and embed answers; undefined when CACHE_TTL_S is 0. */
  cache: ResponseCache | undefined
  /** Clients' response_format schemas, compiled and checked off the main thread within the SCHEMA_* limits. */
  schemas: SchemaChecker
  /** Which client created each stored response: with client keys, only it may fetch or cancel one. */
  responseOwners: ResponseOwners
  /** What this call did (models, tokens, upstream time), for its log line, metrics and trace. */
  record: CallRecord
  /** The call's share of its client's budgets: a tool that spends reserves its estimate here before its upstream call. */
  budget: CallBudget
  requestId: string
  /** Aborted when the client cancels, its connection closes, or the router shuts down. */
  signal: AbortSignal
  /** Progress notifications for this call; inert unless the client sent a progress token. */
  progress: CallProgress
  /** Log messages for the client about this call; silent unless the client chose a level. */
  clientLog: ClientLog
}

/** The `timeout_ms` argument of tools whose calls can be long: their upstream call's deadline (src/routing/pipeline/deadline.ts). */
export const TimeoutArgument = Type.Optional(Type.Integer({ minimum: 1, description: 'Time limit for this call, in ms; capped at the router\'s UPSTREAM_TIMEOUT_MS.' }))

export interface ToolSpec<Input extends TObject> {
  name: string
  title: string
  description: string
  inputSchema: Input
  outputSchema?: TObject
  annotations?: ToolAnnotations
  run: (args: Static<Input>, context: ToolContext) => Promise<CallToolResult>
}

export interface RouterTool {
  name: string
  /** The entry published by `tools/list`. */
  definition: Tool
  /** Validates `args` against the input schema, then runs the tool; invalid arguments throw `invalid_arguments`. */
  call: (args: unknown, context: ToolContext) => Promise<CallToolResult>
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

export function defineTool<Input extends TObject> (spec: ToolSpec<Input>): RouterTool {
  const validate = ajv.compile<Static<Input>>(spec.inputSchema)
  return {
    name: spec.name,
    definition: {
      name: spec.name,
      title: spec.title,
      description: spec.description,
      inputSchema: spec.inputSchema as Tool['inputSchema'],
      ...(spec.outputSchema && { outputSchema: spec.outputSchema as Tool['outputSchema'] }),
      ...(spec.annotations && { annotations: { title: spec.title, ...spec.annotations } }),
    },
    async call (args, context) {
      const input = args ?? {}
      if (nestedDeeperThan(input, MAX_ARGUMENT_DEPTH)) {
        throw new ToolError('invalid_arguments', `Invalid arguments for ${spec.name}: they nest more than ${MAX_ARGUMENT_DEPTH} levels deep (JSON Schemas in tools and response_format included); flatten them.`, { retryable: false })
      }
      if (!validate(input)) {
        throw new ToolError('invalid_arguments', `Invalid arguments for ${spec.name}: ${describeValidationErrors(validate.errors)}.`, { retryable: false })
      }
      return spec.run(input, context)
    },
  }
}
