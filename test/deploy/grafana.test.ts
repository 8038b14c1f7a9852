import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, test } from 'node:test'
import { CallRecord } from '../../src/observability/call-record.js'
import { RouterMetrics } from '../../src/observability/metrics.js'
import { PriceTable } from '../../src/observability/prices.js'
import { parseExposition } from '../support/prometheus.js'

const DASHBOARD = 'deploy/grafana/mcp-openai-router.json'
/**
 * Labels Prometheus gives every scraped series (the target's), beside the router's own; `le` is a
 * histogram bucket's.
 */
const TARGET_LABELS = new Set(['job', 'instance', 'le'])
/** PromQL words that look like names in an expression. */
const PROMQL_WORDS = new Set(['sum', 'max', 'min', 'count', 'rate', 'increase', 'histogram_quantile', 'by', 'without', 'label_values'])

interface Panel { title: string, type: string, targets?: Array<{ expr: string }>, panels?: Panel[] }

/** Every metric the router exports, each with its label names, from a registry that has seen one of everything. */
async function exportedMetrics (): Promise<Map<string, Set<string>>> {
  const metrics = new RouterMetrics({ prices: new PriceTable(), knownModels: ['gpt-4.1-mini'], sources: { openSessions: () => 1, sessionsTakenOver: () => 0, inFlightCalls: () => 0 } })
  metrics.httpRequest('POST', '/mcp', 200, 0.01)
  metrics.mcpMessage('tools/call', 'ok')
  const record = new CallRecord('chat')
  record.admitted({ name: 'team-a' })
  record.cacheUsed('hit')
  record.answered('gpt-4.1-mini', { inputTokens: 10, outputTokens: 5 })
  record.finished('ok', 10)
  metrics.toolCall(record)
  metrics.upstreamCall({ provider: 'openai', operation: 'chat', outcome: 'timeout', seconds: 1 })
  metrics.upstreamRetry({ provider: 'openai', operation: 'chat', code: 'timeout' })
  metrics.fallback({ from: 'openai', to: 'local', reason: 'timeout' })
  metrics.limitRefused('team-a', 'tokens_per_day')
  metrics.circuitState('openai', 'open')
  const exported = new Map<string, Set<string>>()
  for (const { name, labels } of parseExposition(await metrics.exposition())) {
    const known = exported.get(name) ?? new Set<string>()
    for (const label of Object.keys(labels)) known.add(label)
    exported.set(name, known)
  }
  return exported
}

function panelsOf (panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...panelsOf(panel.panels ?? [])])
}

describe('the Grafana dashboard', () => {
  test('queries only metrics the router exports, by labels those metrics have', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: Panel[], templating: { list: Array<{ query?: unknown }> } }
    const exported = await exportedMetrics()
    const queries = panelsOf(dashboard.panels)
      .flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })))
    const variableQueries = dashboard.templating.list.flatMap((variable) => typeof variable.query === 'object' && variable.query !== null ? [{ panel: 'variables', expr: String((variable.query as { query: unknown }).query) }] : [])
    assert.ok(queries.length >= 15, 'a panel for each figure of the status page')
    for (const { panel, expr } of [...queries, ...variableQueries]) {
      // Strings (label values, legends) and Grafana's variables are not names.
      const code = expr.replace(/"[^"]*"/g, '""').replace(/\$\w+|\[[^\]]*\]/g, '')
      const names = [...code.matchAll(/\b[a-z_][a-z0-9_]*\b/g)].map(([name]) => name).filter((name) => !PROMQL_WORDS.has(name))
      const metricNames = names.filter((name) => /^(mcp_router|process|nodejs)_/.test(name))
      assert.ok(metricNames.length > 0, `${panel}: ${expr} names a metric`)
      for (const name of metricNames) assert.ok(exported.has(name), `${panel}: ${name} is exported by the router (src/observability/metrics.ts)`)
      const labels = new Set(metricNames.flatMap((name) => [...exported.get(name) ?? []]))
      for (const label of names.filter((name) => !metricNames.includes(name))) {
        assert.ok(labels.has(label) || TARGET_LABELS.has(label), `${panel}: label "${label}" belongs to ${metricNames.join(', ')}`)
      }
    }
  })

  test('takes its Prometheus as a variable and shows every router figure the status page has', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { uid: string, panels: Panel[], templating: { list: Array<{ type: string, name: string }> } }
    assert.ok(dashboard.templating.list.some((variable) => variable.type === 'datasource' && variable.name === 'datasource'))
    const text = JSON.stringify(dashboard.panels)
    for (const metric of ['mcp_router_provider_circuit_state', 'mcp_router_upstream_errors_total', 'mcp_router_upstream_request_duration_seconds_bucket', 'mcp_router_tokens_total', 'mcp_router_cost_usd_total', 'mcp_router_limit_refusals_total', 'mcp_router_cache_lookups_total', 'mcp_router_mcp_sessions', 'process_resident_memory_bytes']) {
      assert.ok(text.includes(metric), `a panel shows ${metric}`)
    }
    assert.doesNotMatch(text, /"uid":\s*"(?!\$\{datasource\})/, 'no panel is tied to one Grafana\'s datasource uid')
  })
})
