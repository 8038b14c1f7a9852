import type { RouterConfig } from '../../config.js'
import type { RouterTool } from '../tool.js'
import { cancelResponseTool } from './cancel-response.js'
import { chatTool } from './chat/chat.js'
import { echoTool } from './echo.js'
import { embedTool } from './embed.js'
import { generateImageTool } from './generate-image.js'
import { getResponseTool } from './get-response.js'
import { listModelsTool } from './list-models.js'
import { readFileTool } from './read-file.js'

/** Every tool the router can offer, in the order `tools/list` shows them. */
export const tools = [chatTool, getResponseTool, cancelResponseTool, embedTool, generateImageTool, listModelsTool, readFileTool, echoTool]

/** The tools this configuration offers: read_file only when a directory is shared. */
export function enabledTools (config: Pick<RouterConfig, 'READ_FILE_ROOT'>): RouterTool[] {
  return tools.filter((tool) => tool !== readFileTool || config.READ_FILE_ROOT !== undefined)
}
