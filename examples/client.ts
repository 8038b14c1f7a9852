import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'

const url = new URL(process.env.ROUTER_URL ?? 'http://localhost:8000/mcp')
const key = process.env.ROUTER_CLIENT_KEY
const client = new Client({ name: 'example-client', version: '1.0.0' })
await client.connect(new StreamableHTTPClientTransport(url, key ? { requestInit: { headers: { Authorization: `Bearer ${key}` } } } : undefined))

const { tools } = await client.listTools()
console.log('tools:', tools.map((tool) => tool.name).join(', '))

const result = await client.callTool({ name: 'chat', arguments: { prompt: 'Say hello in one word.' } })
if (result.isError) console.error('chat failed:', result.content)
else console.log('answer:', (result.structuredContent as { text: string }).text)

await client.close()
