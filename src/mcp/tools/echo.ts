import { Type } from '@sinclair/typebox'
import { defineTool } from '../tool.js'

export const echoTool = defineTool({
  name: 'echo',
  title: 'Echo',
  description: 'Returns the given text unchanged, without calling any model. Use it to check that the router answers; it spends no tokens.',
  inputSchema: Type.Object({
    text: Type.String({ description: 'Text to send back.' }),
  }, { additionalProperties: false }),
  outputSchema: Type.Object({
    text: Type.String(),
  }),
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  handler: () => async ({ text }) => {
    return { content: [{ type: 'text', text }], structuredContent: { text } }
  },
})
