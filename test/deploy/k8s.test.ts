import assert from 'node:assert/strict'
import { access, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { describe, test } from 'node:test'
import { parseAllDocuments, parse } from 'yaml'
import { checkConfig, compileConfig } from '../../src/config-parsing.js'
import { ConfigSchema } from '../../src/config.js'
import { RoutingFileSchema } from '../../src/routing/routing-config.js'

type Manifest = Record<string, any> & { kind: string, metadata: { name: string } }

async function readManifests (kustomization: string): Promise<Manifest[]> {
  const spec = parse(await readFile(kustomization, 'utf8')) as { resources: string[] }
  const manifests: Manifest[] = []
  for (const resource of spec.resources) {
    const path = join(dirname(kustomization), resource)
    if (!resource.endsWith('.yaml')) {
      manifests.push(...await readManifests(join(path, 'kustomization.yaml')))
      continue
    }
    manifests.push(...parseAllDocuments(await readFile(path, 'utf8')).map((document) => document.toJS() as Manifest))
  }
  return manifests
}

const byKind = (manifests: Manifest[], kind: string) => {
  const found = manifests.find((manifest) => manifest.kind === kind)
  assert.ok(found, `a ${kind}`)
  return found
}

describe('Kubernetes manifests (deploy/k8s)', async () => {
  const manifests = await readManifests('deploy/k8s/overlays/example/kustomization.yaml')
  const deployment = byKind(manifests, 'Deployment')
  const pod = deployment.spec.template.spec
  const container = pod.containers[0]
  const settings = byKind(manifests, 'ConfigMap').data as Record<string, string>
  const probe = (name: string) => container[name].httpGet as { path: string, port: string }

  test('probes use the router\'s routes and its port: liveness and startup /health, readiness /ready', () => {
    assert.deepEqual([probe('livenessProbe').path, probe('startupProbe').path, probe('readinessProbe').path], ['/health', '/health', '/ready'])
    const port = container.ports.find((candidate: { name: string }) => candidate.name === probe('readinessProbe').port)
    assert.equal(port.containerPort, Number(settings.PORT ?? ConfigSchema.properties.PORT.default))
    const service = byKind(manifests, 'Service')
    assert.equal(service.spec.ports[0].targetPort, 'http')
    assert.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels)
  })

  test('every environment variable is a setting the router reads', () => {
    const names = [...Object.keys(settings), ...container.env.map((variable: { name: string }) => variable.name)]
    for (const name of names) assert.ok(name in ConfigSchema.properties, `${name} is in the config schema`)
  })

  test('the key is a Secret mounted as the file OPENAI_API_KEY_FILE names', () => {
    const keyFile = container.env.find((variable: { name: string }) => variable.name === 'OPENAI_API_KEY_FILE').value as string
    const mount = container.volumeMounts.find((candidate: { mountPath: string }) => keyFile.startsWith(`${candidate.mountPath}/`))
    assert.ok(mount, 'a volume mounted where the key file is')
    const volume = pod.volumes.find((candidate: { name: string }) => candidate.name === mount.name)
    assert.equal(volume.secret.secretName, 'mcp-openai-router-openai')
    assert.deepEqual(volume.secret.items, [{ key: 'api-key', path: keyFile.slice(mount.mountPath.length + 1) }])
    assert.equal(mount.readOnly, true)
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

  test('the example overlay\'s routing file, patch and generated files fit the router', async () => {
    const overlay = 'deploy/k8s/overlays/example'
    const kustomization = parse(await readFile(join(overlay, 'kustomization.yaml'), 'utf8')) as { secretGenerator: Array<{ files: string[] }>, configMapGenerator: Array<{ files: string[] }>, patches: Array<{ path: string }> }
    for (const file of [...kustomization.secretGenerator, ...kustomization.configMapGenerator].flatMap((generator) => generator.files)) {
      await access(join(overlay, file.split('=').at(-1) as string))
    }
    const routing = parse(await readFile(join(overlay, 'routing.yaml'), 'utf8')) as { providers: Array<{ apiKeyFile?: string }> }
    checkConfig('routing.yaml', routing, compileConfig(RoutingFileSchema))
    const keyFile = container.env.find((variable: { name: string }) => variable.name === 'OPENAI_API_KEY_FILE').value
    assert.equal(routing.providers[0]?.apiKeyFile, keyFile, 'the routing file reads the mounted key')
    const patch = parse(await readFile(join(overlay, kustomization.patches[0]?.path as string), 'utf8')) as Manifest
    const patched = patch.spec.template.spec.containers[0]
    for (const variable of patched.env) assert.ok(variable.name in ConfigSchema.properties, `${variable.name} is a setting`)
    const routerConfig = patched.env.find((variable: { name: string }) => variable.name === 'ROUTER_CONFIG').value as string
    assert.equal(routerConfig, `${patched.volumeMounts[0].mountPath}/routing.yaml`)
  })
  test('the optional Redis component: its Service is where REDIS_URL points, and the example overlay uses it', async () => {
    const component = 'deploy/k8s/components/redis'
    const spec = parse(await readFile(join(component, 'kustomization.yaml'), 'utf8')) as { kind: string, resources: string[], patches: Array<{ path: string }> }
    assert.equal(spec.kind, 'Component')
    const resources = (await Promise.all(spec.resources.map(async (file) => parseAllDocuments(await readFile(join(component, file), 'utf8')).map((document) => document.toJS() as Manifest)))).flat()
    const service = byKind(resources, 'Service')
    const redis = byKind(resources, 'Deployment')
    for (const [label, value] of Object.entries(service.spec.selector)) assert.equal(redis.spec.template.metadata.labels[label], value, `the Service selects the Redis pods by ${label}`)
    const patch = parse(await readFile(join(component, spec.patches[0]?.path as string), 'utf8')) as Manifest
    assert.equal(patch.metadata.name, byKind(manifests, 'ConfigMap').metadata.name, 'the patch sets the router\'s own settings')
    const redisUrl = new URL(patch.data.REDIS_URL)
    assert.match(patch.data.REDIS_URL, new RegExp(ConfigSchema.properties.REDIS_URL.pattern as string))
    assert.equal(redisUrl.hostname, service.metadata.name)
    assert.equal(Number(redisUrl.port), service.spec.ports[0].port)
    assert.equal(redis.spec.template.spec.containers[0].ports[0].containerPort, service.spec.ports[0].port)
    const overlay = parse(await readFile('deploy/k8s/overlays/example/kustomization.yaml', 'utf8')) as { components: string[] }
    assert.ok(overlay.components.includes('../../components/redis'))
  })
})
