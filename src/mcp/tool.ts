import type { CallToolResult, Tool, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js'
import type { Static, TObject } from '@sinclair/typebox'
import { Ajv } from 'ajv'
import type { FastifyBaseLogger } from 'fastify'
import type OpenAI from 'openai'
import type { RouterConfig } from '../../plugins/config.js'
import { describeValidationErrors } from '../validation-errors.js'
import { ToolError } from './tool-error.js'

/** What a tool may use while it runs: the upstream, the configuration, and the call's own identity. */
export interface ToolContext {
  openai: OpenAI
  config: RouterConfig
  log: FastifyBaseLogger
  requestId: string
  /** Aborted when the client cancels, its connection closes, or the router shuts down. */
  signal: AbortSignal
}

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
      if (!validate(input)) {
        throw new ToolError('invalid_arguments', `Invalid arguments for ${spec.name}: ${describeValidationErrors(validate.errors)}.`, { retryable: false })
      }
      return spec.run(input, context)
    },
  }
}
