import assert from 'node:assert/strict'
import { builtinModules } from 'node:module'
import { spawnSync } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { describe, test } from 'node:test'
import { parse } from 'yaml'
import pkg from '../package.json' with { type: 'json' }
import { ROUTER_NODE_OPTIONS } from '../bench/servers.js'
import { ConfigSchema } from '../src/config.js'

// No Docker engine runs tests here: the files are checked by reading them.
describe('Docker packaging', () => {
  test('compose runs the router on mcp-net, 8001→8000, with .env and a /health check', async () => {
    const compose = parse(await readFile('docker-compose.yml', 'utf8'))
    const service = compose.services['mcp-openai-router']
    assert.equal(service.build, '.')
    assert.equal(service.env_file, '.env')
    assert.deepEqual(service.ports, ['8001:8000'])
    assert.equal(service.environment.PORT, '8000')
    assert.equal(service.environment.HOST, '0.0.0.0', 'environment: wins over env_file, whose HOST (127.0.0.1 in .env.example) would leave the published port unanswered')
    assert.deepEqual(service.networks['mcp-net'].aliases, ['mcp-openai-router'])
    assert.equal(compose.networks['mcp-net'].external, true)
    assert.match(service.healthcheck.test.join(' '), /127\.0\.0\.1:8000\/health/)
    for (const name of Object.keys(service.environment)) assert.ok(name in ConfigSchema.properties, `${name} is a router setting`)
  })

  test('the README creates the .env compose reads, before compose runs', async () => {
    const readme = await readFile('README.md', 'utf8')
    const docker = readme.slice(readme.indexOf('### Docker'))
    const commands = /```bash\n([^]*?)```/.exec(docker)?.[1]?.split('\n').map((line) => line.replace(/ +#.*$/, '')) ?? []
    assert.ok(commands.indexOf('cp .env.example .env') >= 0, 'the Docker section creates .env')
    assert.ok(commands.indexOf('cp .env.example .env') < commands.indexOf('docker compose up -d --build'))
  })

  test('docker-compose.secret.yml mounts the key file as the Docker secret OPENAI_API_KEY_FILE names, a file git and the build context leave out', async () => {
    const overlay = parse(await readFile('docker-compose.secret.yml', 'utf8'))
    const service = overlay.services['mcp-openai-router']
    const [secret] = service.secrets as string[]
    assert.ok(secret)
    assert.equal(service.environment.OPENAI_API_KEY_FILE, `/run/secrets/${secret}`, 'compose mounts a secret at /run/secrets/<name>')
    const file = overlay.secrets[secret].file as string
    assert.equal(spawnSync('git', ['check-ignore', '-q', file]).status, 0, `git ignores ${file}`)
    assert.match(await readFile('.dockerignore', 'utf8'), new RegExp(`^${basename(file).replaceAll('.', '\\.')}$`, 'm'), 'the key stays out of the build context')
    const readme = await readFile('README.md', 'utf8')
    assert.ok(readme.includes(`printf '%s' "$OPENAI_API_KEY" > ${basename(file)}\ndocker compose -f docker-compose.yml -f docker-compose.secret.yml up -d --build\n`))
    assert.ok(readme.includes('remove\n`OPENAI_API_KEY` from `.env`, since the router refuses to start with both set'))
  })

  test('the Dockerfile builds in stages, runs as non-root on Node 24, and lets node receive SIGTERM', async () => {
    const dockerfile = await readFile('Dockerfile', 'utf8')
    const stages = [...dockerfile.matchAll(/^FROM (\S+) AS (\w+)/gm)].map((match) => [match[1], match[2]])
    assert.deepEqual(stages, [['node:24-slim', 'build'], ['node:24-slim', 'runtime']])
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'))
    assert.match(runtime, /npm ci --omit=dev/)
    assert.match(runtime, /^ENV (?:.*\\\n)*\s*HOST=0\.0\.0\.0\b/m, 'the image listens on every interface, npm start on loopback')
    assert.equal(ConfigSchema.properties.HOST.default, '127.0.0.1')
    assert.match(runtime, /^USER node$/m)
    assert.match(runtime, /^EXPOSE 8000$/m)
    assert.match(runtime, /^HEALTHCHECK .*\n.*\/health/m)
    // The Node flags the benchmark measured (bench/servers.ts), in the image and in npm start alike.
    const flags = ROUTER_NODE_OPTIONS.split(' ')
    assert.match(runtime, new RegExp(`^CMD \\["node", ${flags.map((flag) => `"${flag}", `).join('')}"dist/src/server\\.js"\\]$`, 'm'), 'exec form, no shell wrapper')
    assert.deepEqual(pkg.scripts.start.split(' ').filter((word) => flags.includes(word)), flags)
    assert.equal(pkg.scripts.start.split(' ').at(-1), 'dist/src/server.js', 'the image runs what npm start runs')
    for (const dir of ['src', 'plugins', 'routes']) assert.match(dockerfile, new RegExp(`^COPY ${dir} \\./${dir}$`, 'm'))
  })

  test('the build stage installs the dev dependencies without their install scripts, which only the 189 MB node binary needs', async () => {
    const dockerfile = await readFile('Dockerfile', 'utf8')
    const build = dockerfile.slice(dockerfile.indexOf('AS build'), dockerfile.indexOf('AS runtime'))
    assert.deepEqual([...build.matchAll(/^RUN (npm .*)$/gm)].map((match) => match[1]), ['npm ci --ignore-scripts --omit=optional', 'npm run build'])
    // A dependency whose install script the build does need would be skipped too: it must be looked at first.
    const lock = JSON.parse(await readFile('package-lock.json', 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean, version?: string }> }
    const withScripts = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript)
      .map(([path]) => path)
      .sort()
    // The MCP Inspector's (a test client) installs its clients from a source checkout only: as a
    // dependency it does nothing.
    // Portkey's gateway (the benchmark's peer) runs patch-package, with no patches in the published package.
    // Claude Code's (a README client) copies its native binary out of its platform package, and
    // @github/keytar's (Gemini CLI's optional keychain) copies its prebuilt addon: neither downloads.
    // Gemini CLI's other optional addon, node-pty, would compile with node-gyp (which fetches Node's
    // headers): package.json's overrides install the prebuilt @lydell/node-pty in its place.
    assert.deepEqual(withScripts, ['node_modules/@anthropic-ai/claude-code', 'node_modules/@github/keytar', 'node_modules/@modelcontextprotocol/inspector', 'node_modules/@portkey-ai/gateway', 'node_modules/esbuild', 'node_modules/node'])
    assert.equal(pkg.overrides['node-pty'], `npm:@lydell/node-pty@${lock.packages['node_modules/node-pty']?.version as string}`)
    assert.ok('node' in pkg.devDependencies && !('node' in pkg.dependencies), 'the Node binary package is a dev dependency only')
    // npm 11 names each install script allowScripts does not decide on, on every npm ci.
    assert.deepEqual(Object.keys(pkg.allowScripts).sort(), withScripts.map((path) => path.slice('node_modules/'.length)).sort(), 'allowScripts decides on every install script')
    assert.deepEqual(Object.entries(pkg.allowScripts).filter(([, allowed]) => !allowed).map(([name]) => name), ['@modelcontextprotocol/inspector', '@portkey-ai/gateway'], 'only the scripts that do nothing as a dependency are denied')
  })

  test('every package the production code imports is a production dependency, at the version the lockfile holds', async () => {
    // The runtime stage installs `dependencies` only: a package missing there builds, then fails at start.
    const lock = JSON.parse(await readFile('package-lock.json', 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string> }> }
    const imported = new Set<string>()
    for (const folder of ['src', 'plugins', 'routes']) {
      for (const file of await readdir(folder, { recursive: true })) {
        if (!file.endsWith('.ts')) continue
        const source = await readFile(join(folder, file), 'utf8')
        for (const [, specifier] of source.matchAll(/^import (?!type )[^'"]*['"]([^'"]+)['"]/gm)) {
          if (specifier === undefined || specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) continue
          imported.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0] as string)
        }
      }
    }
    const dependencies = pkg.dependencies as Record<string, string>
    for (const name of imported) {
      assert.ok(name in dependencies, `${name} is imported by the production code but is not in dependencies`)
      assert.equal(lock.packages['']?.dependencies?.[name], dependencies[name], `package-lock.json records ${name} as package.json does`)
    }
  })

  test('the lockfile holds every package its packages depend on, so npm ci can install from it', async () => {
    // npm install passes over an optional dependency the registry lacks; npm ci then refuses the
    // whole lockfile. (vite 8.4 names one, napi-windows-process-start-time: package.json's
    // overrides keep the Inspector's vite at 8.3.)
    const lock = JSON.parse(await readFile('package-lock.json', 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string>, optionalDependencies?: Record<string, string>, peer?: boolean }> }
    const present = new Set(Object.keys(lock.packages).map((path) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)))
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
        assert.ok(present.has(name), `${path || 'the project'} depends on ${name}, which package-lock.json lacks`)
      }
    }
  })
})
