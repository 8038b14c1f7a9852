import type { BaseChatModel } from '@langchain/core/language_models/chat_models'
import { createReactAgent } from '@langchain/langgraph/prebuilt'
import { MultiServerMCPClient } from '@langchain/mcp-adapters'

/**
 * A LangGraph agent whose tools are the router's, for any chat model that calls tools (ChatOpenAI,
 * ChatAnthropic, ...).
 */
export async function routerAgent (llm: BaseChatModel) {
  const key = process.env.ROUTER_CLIENT_KEY
  const client = new MultiServerMCPClient({
    'openai-router': {
      transport: 'http',
      url: process.env.ROUTER_URL ?? 'http://localhost:8000/mcp',
      ...(key && { headers: { Authorization: `Bearer ${key}` } }),
    },
  })
  const agent = createReactAgent({ llm, tools: await client.getTools() })
  return { agent, close: () => client.close() }
}
