import pkg from '../package.json' with { type: 'json' }

/** What the command line asks the program to do. */
export type Command =
  | { run: 'http' }
  | { run: 'stdio' }
  | { run: 'reload' }
  | { run: 'help' }
  | { run: 'version' }
  | { run: 'refused', problem: string }

export const USAGE = `Usage: ${pkg.name} [--stdio | reload]

${pkg.description}.

  (no option)   serve MCP over Streamable HTTP at http://HOST:PORT/mcp (default 127.0.0.1:8000)
  --stdio       serve MCP over standard input and output, for a client that starts the router
                itself (Claude Desktop, Cursor, VS Code); logs go to standard error
  reload        send SIGHUP to the router whose process id PID_FILE holds: it reads
                ROUTER_CONFIG and CLIENT_KEYS_FILE again
  --help        print this help
  --version     print the version

Settings come from environment variables (OPENAI_API_KEY, OPENAI_BASE_URL, ROUTER_CONFIG, ...);
every one is listed in docs/configuration.md and .env.example.
`

/** The program's arguments (after `node` and the script) as one {@link Command}. */
export function parseCommandLine (args: readonly string[]): Command {
  if (args.length === 0) return { run: 'http' }
  const [option, ...rest] = args
  if (rest.length > 0) return { run: 'refused', problem: `expected one option, got ${args.length}: ${args.join(' ')}` }
  switch (option) {
    case '--stdio': return { run: 'stdio' }
    case 'reload': return { run: 'reload' }
    case '--help': case '-h': return { run: 'help' }
    case '--version': case '-v': return { run: 'version' }
    default: return { run: 'refused', problem: `unknown option ${option}` }
  }
}
