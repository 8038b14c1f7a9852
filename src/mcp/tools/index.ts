import { cancelResponseTool } from './cancel-response.js'
import { chatTool } from './chat.js'
import { echoTool } from './echo.js'
import { embedTool } from './embed.js'
import { generateImageTool } from './generate-image.js'
import { getResponseTool } from './get-response.js'
import { listModelsTool } from './list-models.js'

/** Every tool the router offers, in the order `tools/list` shows them. */
export const tools = [chatTool, getResponseTool, cancelResponseTool, embedTool, generateImageTool, listModelsTool, echoTool]
