import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { promisify } from 'node:util'
import { parseAllDocuments, parse, stringify } from 'yaml'
import { checkConfig, compileConfig } from '../../src/config-parsing.js'
import { ConfigSchema } from '../../src/config.js'
import { RoutingFileSchema } from '../../src/routing/routing-config.js'

type Manifest = Record<string, any> & { kind: string, metadata: { name: string, namespace?: string } }

const run = promisify(execFile)
const OVERLAY = 'deploy/k8s/overlays/example'
/** The file the overlay's secretGenerator reads, which the README has you write and git ignores. */
const KEY_FILE = 'openai-api-key.txt'
/** What the rendering writes there, as a reader would their key. */
const RENDER_KEY = 'sk-rendered-by-the-test'

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' })
const noKubectl = kubectl.error || kubectl.status !== 0
  ? `kubectl is not installed here (${kubectl.error?.message ?? kubectl.stderr.trim()}): the overlay is not rendered`
  : false

/**
 * The example overlay as `kubectl apply -k` would send it: rendered by kubectl's kustomize from a
 * copy of deploy/k8s, with the key file written as the README says.
 */
async function renderOverlay ({ ownSecret = false } = {}): Promise<Manifest[]> {
  const dir = await mkdtemp(join(tmpdir(), 'k8s-render-'))
  const overlay = join(dir, 'k8s/overlays/example')
  try {
    await cp('deploy/k8s', join(dir, 'k8s'), { recursive: true })
    if (ownSecret) {
      // As the README says for a Secret managed by hand: the generator deleted, no key file.
      const kustomization = parse(await readFile(join(overlay, 'kustomization.yaml'), 'utf8')) as Record<string, unknown>
      delete kustomization.secretGenerator
      await writeFile(join(overlay, 'kustomization.yaml'), stringify(kustomization))
    } else {
      await writeFile(join(overlay, KEY_FILE), RENDER_KEY)
    }
    const { stdout } = await run('kubectl', ['kustomize', overlay], { timeout: 60_000 })
    return parseAllDocuments(stdout).map((document) => document.toJS() as Manifest)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function byKind (manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.find((manifest) =>
    manifest.kind === kind && (name === undefined || manifest.metadata.name === name))
  assert.ok(found, `a ${kind}${name ? ` ${name}` : ''}`)
  return found
}

const git = (...args: string[]) => spawnSync('git', args, { encoding: 'utf8' })

describe('Kubernetes example overlay, rendered (kubectl kustomize deploy/k8s/overlays/example)', { skip: noKubectl }, async () => {
  const manifests = await renderOverlay()
  const deployment = byKind(manifests, 'Deployment', 'mcp-openai-router')
  const pod = deployment.spec.template.spec
  const container = pod.containers[0]
  const settings = byKind(manifests, 'ConfigMap', 'mcp-openai-router-env').data as Record<string, string>
  const env = (name: string) =>
    container.env.find((variable: { name: string }) => variable.name === name)?.value as string | undefined
  const probe = (name: string) => container[name].httpGet as { path: string, port: string }
  const readme = await readFile('README.md', 'utf8')

  test('the image is the one the README builds and pushes', () => {
    const built = /^docker buildx build --platform \S+ -t (\S+) --push \.$/m.exec(readme)?.[1]
    assert.ok(built, 'the README builds and pushes the image')
    assert.equal(container.image, built)
  })

  test('probes use the router\'s routes and its port: liveness and startup /health, readiness /ready', () => {
    assert.deepEqual([probe('livenessProbe').path, probe('startupProbe').path, probe('readinessProbe').path], ['/health', '/health', '/ready'])
    const port = container.ports.find((candidate: { name: string }) => candidate.name === probe('readinessProbe').port)
    assert.equal(port.containerPort, Number(settings.PORT ?? ConfigSchema.properties.PORT.default))
    const service = byKind(manifests, 'Service', 'mcp-openai-router')
    assert.equal(service.spec.ports[0].targetPort, 'http')
    assert.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels)
  })

  test('every environment variable is a setting the router reads, and the settings come from the rendered ConfigMap', () => {
    assert.deepEqual(container.envFrom, [{ configMapRef: { name: 'mcp-openai-router-env' } }])
    const names = [...Object.keys(settings), ...container.env.map((variable: { name: string }) => variable.name)]
    for (const name of names) assert.ok(name in ConfigSchema.properties, `${name} is in the config schema`)
    assert.equal(settings.HOST, '0.0.0.0', 'the Service reaches the pod')
  })

  test('the key is the generated Secret, holding the key file the README writes, mounted where OPENAI_API_KEY_FILE points', async () => {
    const secret = byKind(manifests, 'Secret')
    assert.match(secret.metadata.name, /^mcp-openai-router-openai-\w+$/, 'the secretGenerator\'s name, with its content hash')
    assert.equal(Buffer.from(secret.data['api-key'], 'base64').toString(), RENDER_KEY)
    const keyFile = env('OPENAI_API_KEY_FILE')
    assert.ok(keyFile)
    const mount = container.volumeMounts.find((candidate: { mountPath: string }) => keyFile.startsWith(`${candidate.mountPath}/`))
    assert.ok(mount, 'a volume mounted where the key file is')
    assert.equal(mount.readOnly, true)
    const volume = pod.volumes.find((candidate: { name: string }) => candidate.name === mount.name)
    assert.equal(volume.secret.secretName, secret.metadata.name, 'the Deployment mounts the generated Secret')
    assert.deepEqual(volume.secret.items, [{ key: 'api-key', path: keyFile.slice(mount.mountPath.length + 1) }])
    assert.ok(readme.includes(`printf '%s' "$OPENAI_API_KEY" > ${OVERLAY}/${KEY_FILE}`), 'the README writes the file the generator reads')
    assert.equal(git('check-ignore', '-q', `${OVERLAY}/${KEY_FILE}`).status, 0, 'git ignores the key file')
    assert.equal(git('ls-files', OVERLAY).stdout.includes(KEY_FILE), false, 'no key file is committed')
  })

  test('with the secretGenerator deleted, as the README says for a Secret of your own, the Deployment mounts mcp-openai-router-openai', async () => {
    assert.ok(readme.includes('manage the Secret `mcp-openai-router-openai` yourself'))
    const rendered = await renderOverlay({ ownSecret: true })
    assert.equal(rendered.some((manifest) => manifest.kind === 'Secret'), false)
    const volumes = byKind(rendered, 'Deployment', 'mcp-openai-router').spec.template.spec.volumes as Array<{ secret?: { secretName: string } }>
    assert.deepEqual(volumes.flatMap((volume) => volume.secret ? [volume.secret.secretName] : []), ['mcp-openai-router-openai'])
  })

  test('the routing file: a generated ConfigMap, valid for the router, mounted where ROUTER_CONFIG points, reading the mounted key', () => {
    const routingMap = manifests.find((manifest) => manifest.kind === 'ConfigMap' && manifest.metadata.name.startsWith('mcp-openai-router-routing-'))
    assert.ok(routingMap, 'the configMapGenerator\'s ConfigMap')
    const routing = parse(routingMap.data['routing.yaml']) as { providers: Array<{ apiKeyFile?: string }> }
    checkConfig('routing.yaml', routing, compileConfig(RoutingFileSchema))
    assert.equal(routing.providers[0]?.apiKeyFile, env('OPENAI_API_KEY_FILE'), 'the routing file reads the mounted key')
    const routerConfig = env('ROUTER_CONFIG')
    assert.ok(routerConfig)
    const mount = container.volumeMounts.find((candidate: { mountPath: string }) => routerConfig === `${candidate.mountPath}/routing.yaml`)
    assert.ok(mount, 'mounted where ROUTER_CONFIG points')
    const volume = pod.volumes.find((candidate: { name: string }) => candidate.name === mount.name)
    assert.equal(volume.configMap.name, routingMap.metadata.name)
    assert.equal(env('ROUTER_CONFIG_WATCH'), 'true')
  })

  test('the grace period outlasts the preStop pause, the router\'s drain and its closing margin', () => {
    const pauseMs = Number(/setTimeout\(\(\) => \{\}, (\d+)\)/.exec(container.lifecycle.preStop.exec.command.join(' '))?.[1])
    assert.ok(pauseMs > 0, 'a preStop pause')
    const drainMs = Number(settings.SHUTDOWN_GRACE_MS ?? ConfigSchema.properties.SHUTDOWN_GRACE_MS.default)
    // src/server.ts gives close-with-grace SHUTDOWN_GRACE_MS + 5 s before it forces the exit.
    assert.ok(pod.terminationGracePeriodSeconds * 1000 > pauseMs + drainMs + 5000, `${pod.terminationGracePeriodSeconds} s > ${pauseMs} + ${drainMs} + 5000 ms`)
  })

  test('it runs non-root on a read-only root filesystem, with requests and limits', () => {
    assert.equal(pod.securityContext.runAsNonRoot, true)
    assert.equal(container.securityContext.readOnlyRootFilesystem, true)
    assert.equal(container.securityContext.allowPrivilegeEscalation, false)
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL'])
    assert.ok(container.resources.requests.cpu && container.resources.limits.memory)
  })

  test('two or more replicas, kept by the autoscaler and the disruption budget', () => {
    assert.ok(deployment.spec.replicas >= 2)
    const hpa = byKind(manifests, 'HorizontalPodAutoscaler')
    assert.ok(hpa.spec.minReplicas >= 2)
    assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name)
    const pdb = byKind(manifests, 'PodDisruptionBudget')
    assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels)
    assert.deepEqual(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels)
  })

  test('the Redis component: REDIS_URL in the router\'s settings points at the rendered Redis Service, which selects the Redis pods', () => {
    const service = byKind(manifests, 'Service', 'mcp-openai-router-redis')
    const redis = byKind(manifests, 'Deployment', 'mcp-openai-router-redis')
    for (const [label, value] of Object.entries(service.spec.selector)) assert.equal(redis.spec.template.metadata.labels[label], value, `the Service selects the Redis pods by ${label}`)
    assert.ok(settings.REDIS_URL, 'the component sets REDIS_URL')
    assert.match(settings.REDIS_URL, new RegExp(ConfigSchema.properties.REDIS_URL.pattern as string))
    const redisUrl = new URL(settings.REDIS_URL)
    assert.equal(redisUrl.hostname, service.metadata.name)
    assert.equal(Number(redisUrl.port), service.spec.ports[0].port)
    assert.equal(redis.spec.template.spec.containers[0].ports[0].containerPort, service.spec.ports[0].port)
  })

  test('everything but the Namespace lands in the overlay\'s namespace', () => {
    const namespace = byKind(manifests, 'Namespace').metadata.name
    for (const manifest of manifests.filter((candidate) => candidate.kind !== 'Namespace')) {
      assert.equal(manifest.metadata.namespace, namespace, `${manifest.kind} ${manifest.metadata.name}`)
    }
  })
})
