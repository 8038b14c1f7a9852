import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { promisify } from 'node:util'
import { validateWorkflow } from '@action-validator/core'
import { parse } from 'yaml'

const WORKFLOWS = '.github/workflows'

interface Step { uses?: string, run?: string, with?: Record<string, unknown> }
interface Job {
  if?: string
  needs?: string | string[]
  permissions?: Record<string, string>
  strategy?: { matrix: Record<string, unknown[]> }
  steps: Step[]
}
interface Workflow {
  on: { push: { branches: string[], tags: string[] }, pull_request: unknown }
  jobs: Record<string, Job>
}

const readText = (path: string) => readFile(path, 'utf8')
const run = promisify(execFile)
const runs = (job: Job) => job.steps.flatMap((step) => step.run?.split('\n').map((line) => line.trim()).filter(Boolean) ?? [])
const action = (job: Job, name: string) => {
  const step = job.steps.find((candidate) => candidate.uses?.split('@')[0] === name)
  assert.ok(step, `a ${name} step`)
  return step
}
const ON_VERSION_TAG = "startsWith(github.ref, 'refs/tags/v')"
/** The shell check that a tag v1.2.3 comes with package.json's version 1.2.3. */
// eslint-disable-next-line no-template-curly-in-string -- a shell parameter expansion, not a template
const TAG_IS_VERSION = 'test "${GITHUB_REF_NAME#v}" = "$(node -p \'require("./package.json").version\')"'

describe('GitHub Actions workflow (.github/workflows)', async () => {
  const files = (await readdir(WORKFLOWS)).filter((file) => /\.ya?ml$/.test(file))
  const workflow = parse(await readText(join(WORKFLOWS, 'ci.yml'))) as Workflow
  const { test: tests, image, publish } = workflow.jobs
  assert.ok(tests && image && publish, 'test, image and publish jobs')

  test('every workflow file is valid against GitHub\'s workflow schema', async () => {
    assert.ok(files.length > 0)
    for (const file of files) {
      const { errors } = validateWorkflow(await readText(join(WORKFLOWS, file)))
      assert.deepEqual(errors, [], `${file}: ${JSON.stringify(errors)}`)
    }
  })

  test('it tests pushes to main, pull requests and version tags, on Node 22 and 24', () => {
    assert.deepEqual(workflow.on.push.branches, ['main'])
    assert.deepEqual(workflow.on.push.tags, ['v*'])
    assert.ok('pull_request' in workflow.on)
    assert.deepEqual(tests.strategy?.matrix.node, [22, 24])
    // eslint-disable-next-line no-template-curly-in-string -- a GitHub Actions expression, not a template
    assert.equal(action(tests, 'actions/setup-node').with?.['node-version'], '${{ matrix.node }}')
  })

  test('the test job runs what .ci/run runs: Debian\'s redis-server, npm ci, the build and the README\'s test command', async () => {
    const readme = await readText('README.md')
    const testCommand = /^(npm test)\s+# lint, type check, and the whole suite/m.exec(readme)?.[1]
    assert.ok(testCommand, 'the README\'s test command')
    const ciRun = await readText('.ci/run')
    const commands = runs(tests)
    for (const command of ['npm ci --no-audit --no-fund', 'npm run build', testCommand]) {
      assert.ok(ciRun.includes(`\n${command}\n`), `.ci/run runs ${command}`)
      assert.ok(commands.includes(command), `the workflow runs ${command}`)
    }
    assert.ok(commands.indexOf('npm ci --no-audit --no-fund') < commands.indexOf('npm run build'))
    assert.ok(commands.indexOf('npm run build') < commands.indexOf(testCommand))
    assert.ok(commands.some((command) => /apt-get install .*\bredis-server$/.test(command)), 'redis-server from Debian')
    assert.match(ciRun, /apt-get install .*\bredis-server\b/)
    // Without this the Node 22 leg would run the suite on the `node` dev dependency's Node 24.
    assert.ok(commands.indexOf('rm node_modules/.bin/node') > commands.indexOf('npm ci --no-audit --no-fund'))
  })

  test('on a version tag, after the tests: the multi-arch image pushed to GHCR with provenance and SBOM', () => {
    assert.equal(image.if, ON_VERSION_TAG)
    assert.equal(image.needs, 'test')
    assert.equal(image.permissions?.packages, 'write')
    action(image, 'docker/setup-qemu-action')
    action(image, 'docker/setup-buildx-action')
    assert.equal(action(image, 'docker/login-action').with?.registry, 'ghcr.io')
    assert.match(String(action(image, 'docker/metadata-action').with?.images), /^ghcr\.io\/\$\{\{ github\.repository_owner \}\}\/mcp-openai-router$/)
    const build = action(image, 'docker/build-push-action').with ?? {}
    assert.deepEqual(String(build.platforms).split(','), ['linux/amd64', 'linux/arm64'])
    assert.equal(build.push, true)
    assert.equal(build.provenance, 'mode=max')
    assert.equal(build.sbom, true)
    assert.ok(runs(image).includes(TAG_IS_VERSION), 'the tag names the package version')
    assert.ok(runs(publish).includes(TAG_IS_VERSION), 'the tag names the package version')
  })

  test('on a version tag, after the tests: the package published with provenance, and nothing while package.json is private', () => {
    assert.equal(publish.if, ON_VERSION_TAG)
    assert.equal(publish.needs, 'test')
    assert.equal(publish.permissions?.['id-token'], 'write', 'trusted publishing needs the OIDC token')
    const commands = runs(publish)
    assert.ok(commands.indexOf('npm run build') < commands.indexOf('npm publish --provenance --access public'))
    const publishing = commands.indexOf('npm publish --provenance --access public')
    const privateCheck = commands.indexOf('if [ "$(node -p \'require("./package.json").private === true\')" = true ]; then')
    const repositoryCheck = commands.findIndex((command) => command.startsWith('if [ -z "$(node -p \'const { repository: r } = require("./package.json")'))
    assert.ok(privateCheck >= 0 && privateCheck < repositoryCheck && repositoryCheck < publishing, 'a private package is skipped, then one without repository refused, before npm publish')
  })

  test('the publish job\'s repository check tells a package without repository from one with it', async () => {
    const command = runs(publish).find((line) => line.startsWith('if [ -z "$(node -p \'const { repository: r }'))
    const script = /node -p '([^']+)'/.exec(command ?? '')?.[1]
    assert.ok(script, 'the check reads package.json with node -p')
    const dir = await mkdtemp(join(tmpdir(), 'repository-check-'))
    const named = async (manifest: object) => {
      await writeFile(join(dir, 'package.json'), JSON.stringify(manifest))
      return (await run(process.execPath, ['-p', script], { cwd: dir })).stdout.trim()
    }
    try {
      assert.equal(await named({ name: 'x' }), '')
      assert.equal(await named({ name: 'x', repository: { type: 'git', url: 'git+https://github.com/o/r.git' } }), 'git+https://github.com/o/r.git')
      assert.equal(await named({ name: 'x', repository: 'github:o/r' }), 'github:o/r')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('the README says how a release is cut, with the tag the workflow reacts to', async () => {
    const readme = await readText('README.md')
    const releases = readme.slice(readme.indexOf('### Releases'))
    assert.match(releases, /^npm version minor +# .*tags v0\.2\.0$/m)
    assert.match(releases, /^git push --follow-tags +#/m)
    assert.ok(releases.includes('`.github/workflows/ci.yml`'))
  })
})
