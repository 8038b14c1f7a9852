import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'

/** Longest one CLI command may take: generous for a loaded 2-core machine, short of a hang. */
export const CLI_TIMEOUT_MS = 60_000

/** The project's installed clients (`claude`, `gemini`, `codex`), as `npx` would find them after `npm ci`. */
const PROJECT_BIN = resolve('node_modules/.bin')

/** An address that refuses every connection: the CLIs' proxy, so that nothing they try leaves the machine. */
const NOWHERE = 'http://127.0.0.1:9'

/**
 * A home of its own for the real MCP clients: their configuration, caches, trust lists and
 * sessions go into a temporary folder, never the machine's. Updates, telemetry and error reports
 * are switched off, and any other request goes to a proxy that refuses it: only loopback
 * addresses (the router, the test upstream) are reached.
 */
export class ClientHome {
  private constructor (readonly home: string, readonly project: string, readonly env: Record<string, string>) {}

  static async create (clientKey: string): Promise<ClientHome> {
    const home = await mkdtemp(join(tmpdir(), 'mcp-client-home-'))
    const project = join(home, 'project')
    await mkdir(project)
    const env = {
      PATH: [dirname(process.execPath), PROJECT_BIN, process.env.PATH].join(':'),
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_CACHE_HOME: join(home, '.cache'),
      XDG_DATA_HOME: join(home, '.local/share'),
      CODEX_HOME: join(home, '.codex'),
      TERM: 'dumb',
      CI: 'true',
      ROUTER_CLIENT_KEY: clientKey,
      HTTP_PROXY: NOWHERE,
      HTTPS_PROXY: NOWHERE,
      NO_PROXY: '127.0.0.1,localhost',
      NODE_USE_ENV_PROXY: '1',
      // Claude Code
      DISABLE_AUTOUPDATER: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      // The OpenAI Agents SDK's traces go to OpenAI's API unless switched off.
      OPENAI_AGENTS_DISABLE_TRACING: '1',
      NO_UPDATE_NOTIFIER: '1',
      // npx runs the project's installed packages or fails: it downloads nothing.
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
    }
    await mkdir(env.CODEX_HOME)
    return new ClientHome(home, project, env)
  }

  /**
   * Gemini CLI: this project folder trusted (an untrusted one has its MCP servers disabled), no
   * statistics, no update checks.
   */
  async trustForGemini (): Promise<void> {
    const gemini = join(this.home, '.gemini')
    await mkdir(gemini, { recursive: true })
    await writeFile(join(gemini, 'trustedFolders.json'), JSON.stringify({ [this.project]: 'TRUST_FOLDER' }))
    await writeFile(join(gemini, 'settings.json'), JSON.stringify({
      general: { disableAutoUpdate: true, disableUpdateNag: true },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
    }))
  }

  /**
   * Codex: its model provider is the test's upstream (a thread would otherwise open a connection to
   * OpenAI), no analytics or update checks.
   */
  async pointCodexAt (upstreamBaseURL: string): Promise<void> {
    await writeFile(join(this.env.CODEX_HOME as string, 'config.toml'), [
      'model_provider = "test-upstream"',
      'check_for_update_on_startup = false',
      '',
      '[analytics]',
      'enabled = false',
      '',
      '[model_providers.test-upstream]',
      'name = "the test\'s upstream"',
      `base_url = "${upstreamBaseURL}"`,
      'wire_api = "responses"',
      'supports_websockets = false',
      '',
    ].join('\n'))
  }

  /** A README command as a reader types it: bash in the project folder, the key in ROUTER_CLIENT_KEY. */
  async shell (command: string): Promise<{ stdout: string, stderr: string, output: string }> {
    const { stdout, stderr } = await promisify(execFile)('bash', ['-c', command], { cwd: this.project, env: this.env, timeout: CLI_TIMEOUT_MS })
    return { stdout, stderr, output: stdout + stderr }
  }

  async remove (): Promise<void> {
    await rm(this.home, { recursive: true, force: true })
  }
}

interface AppServerMessage {
  id?: number
  method?: string
  result?: unknown
  error?: { message: string }
}

/**
 * Codex's `app-server`, the JSON-RPC (one message per line, over stdio) that Codex's IDE
 * extensions drive: it connects to the MCP servers of its configuration and lists and calls their tools.
 */
export class CodexAppServer {
  readonly #pending = new Map<number, (message: AppServerMessage) => void>()
  #nextId = 1

  private constructor (private readonly child: ChildProcess) {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    lines.on('line', (line) => {
      const message = JSON.parse(line) as AppServerMessage
      if (message.id !== undefined && message.method === undefined) this.#pending.get(message.id)?.(message)
    })
  }

  static async start (home: ClientHome): Promise<CodexAppServer> {
    const child = spawn('codex', ['app-server'], { cwd: home.project, env: home.env, stdio: ['pipe', 'pipe', 'ignore'] })
    const server = new CodexAppServer(child)
    await server.request('initialize', { clientInfo: { name: 'mcp-openai-router-test', version: '1.0.0' } })
    server.#send({ method: 'initialized' })
    return server
  }

  async request<Result> (method: string, params: object): Promise<Result> {
    const id = this.#nextId++
    const answered = new Promise<AppServerMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`codex app-server did not answer ${method} within ${CLI_TIMEOUT_MS} ms`)), CLI_TIMEOUT_MS)
      this.#pending.set(id, (message) => {
        clearTimeout(timer)
        this.#pending.delete(id)
        resolve(message)
      })
    })
    this.#send({ id, method, params })
    const message = await answered
    if (message.error) throw new Error(`codex app-server: ${method} failed: ${message.error.message}`)
    return message.result as Result
  }

  #send (message: object): void {
    this.child.stdin?.write(JSON.stringify(message) + '\n')
  }

  async close (): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.child.stdin?.end()
    this.child.kill('SIGTERM')
    await once(this.child, 'exit')
  }
}
