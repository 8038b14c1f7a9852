import { chatTool } from './chat.js'
import { echoTool } from './echo.js'
import { listModelsTool } from './list-models.js'

/** Every tool the router offers, in the order `tools/list` shows them. */
export const tools = [chatTool, listModelsTool, echoTool]
