import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, test } from 'node:test'
import { parse } from 'yaml'
import pkg from '../package.json' with { type: 'json' }
import { ConfigSchema } from '../plugins/config.js'

// No Docker engine runs tests here: the files are checked by reading them.
describe('Docker packaging', () => {
  test('compose runs the router on mcp-net, 8001→8000, with .env and a /health check', async () => {
    const compose = parse(await readFile('docker-compose.yml', 'utf8'))
    const service = compose.services['mcp-openai-router']
    assert.equal(service.build, '.')
    assert.equal(service.env_file, '.env')
    assert.deepEqual(service.ports, ['8001:8000'])
    assert.equal(service.environment.PORT, '8000')
    assert.deepEqual(service.networks['mcp-net'].aliases, ['mcp-openai-router'])
    assert.equal(compose.networks['mcp-net'].external, true)
    assert.match(service.healthcheck.test.join(' '), /127\.0\.0\.1:8000\/health/)
    for (const name of Object.keys(service.environment)) assert.ok(name in ConfigSchema.properties, `${name} is a router setting`)
  })

  test('the Dockerfile builds in stages, runs as non-root on Node 24, and lets node receive SIGTERM', async () => {
    const dockerfile = await readFile('Dockerfile', 'utf8')
    const stages = [...dockerfile.matchAll(/^FROM (\S+) AS (\w+)/gm)].map((match) => [match[1], match[2]])
    assert.deepEqual(stages, [['node:24-slim', 'build'], ['node:24-slim', 'runtime']])
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'))
    assert.match(runtime, /npm ci --omit=dev/)
    assert.match(runtime, /^USER node$/m)
    assert.match(runtime, /^EXPOSE 8000$/m)
    assert.match(runtime, /^HEALTHCHECK .*\n.*\/health/m)
    assert.match(runtime, /^CMD \["node", "dist\/src\/server\.js"\]$/m, 'exec form, no shell wrapper')
    assert.equal(pkg.scripts.start.split(' ').at(-1), 'dist/src/server.js', 'the image runs what npm start runs')
    for (const dir of ['src', 'plugins', 'routes']) assert.match(dockerfile, new RegExp(`^COPY ${dir} \\./${dir}$`, 'm'))
  })
})
