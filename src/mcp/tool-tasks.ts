import type { CreateTaskOptions, TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js'
import { InMemoryTaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/stores/in-memory.js'
import type { CallToolResult, Request, RequestId, Result, Task } from '@modelcontextprotocol/sdk/types.js'

/**
 * Tool calls run as MCP tasks (the client sent `task` with `tools/call`): one store shared by
 * every MCP server of the app, so that in stateless mode the `tasks/get` and `tasks/result` of
 * later requests find the task. It bounds each task's lifetime, stops the work when the client
 * cancels the task, and lists a client's tasks only within its session. With client keys, each
 * task belongs to the client that created it: {@link ToolTasks.forClient} is the store as one
 * client sees it, where other clients' tasks do not exist.
 */
export class ToolTasks implements TaskStore {
  readonly #store = new InMemoryTaskStore()
  readonly #running = new Map<string, AbortController>()
  /** The client that created each task, for as long as the task lives. */
  readonly #owners = new Map<string, string>()
  readonly #ownerTimers = new Set<NodeJS.Timeout>()

  constructor (private readonly maxTtlMs: number) {}

  async createTask (params: CreateTaskOptions, requestId: RequestId, request: Request, sessionId?: string): Promise<Task> {
    const ttl = Math.min(params.ttl ?? this.maxTtlMs, this.maxTtlMs)
    return this.#store.createTask({ ...params, ttl }, requestId, request, sessionId)
  }

  async getTask (taskId: string, sessionId?: string): Promise<Task | null> {
    return this.#store.getTask(taskId, sessionId)
  }

  async storeTaskResult (taskId: string, status: 'completed' | 'failed', result: Result, sessionId?: string): Promise<void> {
    return this.#store.storeTaskResult(taskId, status, result, sessionId)
  }

  async getTaskResult (taskId: string, sessionId?: string): Promise<Result> {
    return this.#store.getTaskResult(taskId, sessionId)
  }

  async updateTaskStatus (taskId: string, status: Task['status'], statusMessage?: string, sessionId?: string): Promise<void> {
    await this.#store.updateTaskStatus(taskId, status, statusMessage, sessionId)
    if (status === 'cancelled') this.#running.get(taskId)?.abort(new Error('the client cancelled the task'))
  }

  async listTasks (cursor?: string, sessionId?: string): Promise<{ tasks: Task[], nextCursor?: string }> {
    // Without a session every client shares the store: a listing would show other clients' tasks.
    if (sessionId === undefined) return { tasks: [] }
    return this.#store.listTasks(cursor, sessionId)
  }

  /** The store as `client` sees it: only its own tasks exist. Without client keys, every task is everyone's. */
  forClient (client: string | undefined): TaskStore {
    if (client === undefined) return this
    const owned = (taskId: string) => this.#owners.get(taskId) === client
    const notFound = (taskId: string) => new Error(`Task with ID ${taskId} not found`)
    return {
      createTask: async (params, requestId, request, sessionId) => {
        const task = await this.createTask(params, requestId, request, sessionId)
        this.#own(task, client)
        return task
      },
      getTask: async (taskId, sessionId) => owned(taskId) ? this.getTask(taskId, sessionId) : null,
      getTaskResult: async (taskId, sessionId) => {
        if (!owned(taskId)) throw notFound(taskId)
        return this.getTaskResult(taskId, sessionId)
      },
      storeTaskResult: async (taskId, status, result, sessionId) => {
        if (!owned(taskId)) throw notFound(taskId)
        return this.storeTaskResult(taskId, status, result, sessionId)
      },
      updateTaskStatus: async (taskId, status, statusMessage, sessionId) => {
        if (!owned(taskId)) throw notFound(taskId)
        return this.updateTaskStatus(taskId, status, statusMessage, sessionId)
      },
      listTasks: async (cursor, sessionId) => {
        const listed = await this.listTasks(cursor, sessionId)
        return { ...listed, tasks: listed.tasks.filter((task) => owned(task.taskId)) }
      },
    }
  }

  #own (task: Task, client: string): void {
    this.#owners.set(task.taskId, client)
    // The task store forgets a task at its ttl; its owner goes with it.
    const timer = setTimeout(() => {
      this.#owners.delete(task.taskId)
      this.#ownerTimers.delete(timer)
    }, task.ttl ?? this.maxTtlMs).unref()
    this.#ownerTimers.add(timer)
  }

  /**
   * Runs a task's work detached from the request that created it, and stores its result;
   * `work` gets the signal that `tasks/cancel` (or `close`) aborts.
   */
  run (task: Task, sessionId: string | undefined, work: (signal: AbortSignal) => Promise<CallToolResult>, onStoreFailure: (err: unknown) => void): void {
    const controller = new AbortController()
    this.#running.set(task.taskId, controller)
    work(controller.signal)
      .then(async (result) => this.#store.storeTaskResult(task.taskId, result.isError ? 'failed' : 'completed', result, sessionId))
      // A cancelled task is already terminal; the store refuses a result for it, as it should.
      .catch((err: unknown) => { if (!controller.signal.aborted) onStoreFailure(err) })
      .finally(() => this.#running.delete(task.taskId))
  }

  get running (): number {
    return this.#running.size
  }

  /** Stops every running task and forgets all of them. */
  close (): void {
    for (const controller of this.#running.values()) controller.abort(new Error('the router is shutting down'))
    for (const timer of this.#ownerTimers) clearTimeout(timer)
    this.#ownerTimers.clear()
    this.#owners.clear()
    this.#store.cleanup()
  }
}
