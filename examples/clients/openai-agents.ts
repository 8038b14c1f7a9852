import { MCPServerStreamableHttp } from '@openai/agents'

const key = process.env.ROUTER_CLIENT_KEY
const router = new MCPServerStreamableHttp({
  name: 'openai-router',
  url: process.env.ROUTER_URL ?? 'http://localhost:8000/mcp',
  ...(key && { requestInit: { headers: { Authorization: `Bearer ${key}` } } }),
})
await router.connect()

// An Agent takes it as it is: new Agent({ name, instructions, mcpServers: [router] })
const tools = await router.listTools()
console.log('tools:', tools.map((tool) => tool.name).join(', '))
const content = await router.callTool('echo', { text: 'ping' })
console.log('echo:', content.map((part) => ('text' in part ? part.text : part.type)).join(''))

await router.close()
