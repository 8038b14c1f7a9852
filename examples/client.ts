import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'

const url = new URL(process.env.ROUTER_URL ?? 'http://localhost:8000/mcp')
const key = process.env.ROUTER_CLIENT_KEY
// 'auto' asks the server what it speaks (server/discover) and uses 2026-07-28, as this router offers it.
const client = new Client({ name: 'example-client', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } })
await client.connect(new StreamableHTTPClientTransport(url, key ? { requestInit: { headers: { Authorization: `Bearer ${key}` } } } : undefined))

const { tools } = await client.listTools()
console.log('tools:', tools.map((tool) => tool.name).join(', '))

const result = await client.callTool({ name: 'chat', arguments: { prompt: 'Say hello in one word.' } })
if (result.isError) console.error('chat failed:', result.content)
else console.log('answer:', (result.structuredContent as { text: string }).text)

await client.close()
