import { createMCPClient } from '@ai-sdk/mcp'

const key = process.env.ROUTER_CLIENT_KEY
const client = await createMCPClient({
  transport: {
    type: 'http',
    url: process.env.ROUTER_URL ?? 'http://localhost:8000/mcp',
    ...(key && { headers: { Authorization: `Bearer ${key}` } }),
  },
})

// AI SDK tools, ready for generateText({ model, tools, prompt }) or streamText
const tools = await client.tools()
console.log('tools:', Object.keys(tools).join(', '))

await client.close()
