import type { CallToolResult } from '@modelcontextprotocol/server'
import type { ToolError } from '../errors.js'

/** The tool result for a failure: `isError` with the message as text, and the same facts under `_meta.error`. */
export function toolErrorResult (error: ToolError, requestId: string): CallToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text: `${error.message} [${error.code}; request id ${requestId}]` }],
    _meta: {
      error: { code: error.code, message: error.message, requestId, ...error.details },
    },
  }
}
