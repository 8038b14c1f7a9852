import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ToolTasks } from '../src/mcp/tool-tasks.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Tool calls running as MCP tasks, and their results until TASK_TTL_MS. */
    toolTasks: ToolTasks
  }
}

async function mcpTasksPlugin (fastify: FastifyInstance) {
  const tasks = new ToolTasks(fastify.config.TASK_TTL_MS)
  fastify.decorate('toolTasks', tasks)
  // Running tasks are in-flight calls too: preClose has drained them within the grace period.
  fastify.addHook('onClose', async () => tasks.close())
}

export default fp(mcpTasksPlugin, { name: 'mcp-tasks', dependencies: ['config'] })
