import type { ClientStatusRow, ProviderStatusRow, RecentCallRow, RouterFactsRow, StatusSnapshot } from './status-schema.js'

/** Where the page's own files are served: the only places it loads anything from. */
export const STATUS_ASSETS = { script: '/status/app.js', style: '/status/app.css', icon: '/status/icon.svg' } as const

/** Every value a page shows passes here: nothing a client or an upstream named can become markup. */
function escapeHtml (value: string | number): string {
  return String(value).replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

/** The sections the script replaces on each update, by element id. */
export function liveSections (snapshot: StatusSnapshot): Record<'router' | 'providers' | 'clients', string> {
  return {
    router: routerSection(snapshot.router, snapshot.generatedAt),
    providers: providersSection(snapshot.providers, snapshot.generatedAt),
    clients: clientsSection(snapshot.clients, snapshot.router.sharedState),
  }
}

/** The whole page, from one snapshot; the script keeps it up to date from there. */
export function statusPage (snapshot: StatusSnapshot, viewer: string, canSignOut: boolean): string {
  const sections = liveSections(snapshot)
  const tools = [...new Set(snapshot.calls.map((call) => call.tool))].sort()
  return document('mcp-openai-router status', `
<header>
  <h1>mcp-openai-router <span class="muted">status</span></h1>
  <p class="muted">replica <strong>${escapeHtml(snapshot.router.replica)}</strong> · read as ${escapeHtml(viewer)} · updated <time id="updated" data-live-state="live">${clock(snapshot.generatedAt)}</time> UTC</p>
  ${canSignOut ? '<form method="post" action="/status/sign-out"><button type="submit">Sign out</button></form>' : ''}
</header>
<main data-since="${snapshot.lastSeq}">
  <section id="router" aria-label="Router">${sections.router}</section>
  <section id="providers" aria-label="Providers">${sections.providers}</section>
  <section id="clients" aria-label="Clients">${sections.clients}</section>
  <section aria-label="Recent calls">
    <h2>Recent calls <span class="muted">(this replica, newest first)</span></h2>
    <form id="call-filters" class="filters">
      ${filter('client', 'Client', snapshot.clients.map((client) => client.name))}
      ${filter('tool', 'Tool', tools)}
      ${filter('outcome', 'Outcome', ['ok', 'failed'])}
    </form>
    <div class="scroll"><table class="calls">
      <thead><tr><th>Time</th><th>Client</th><th>Tool</th><th>Model asked → served</th><th>Outcome</th><th class="num">Latency</th><th class="num">Tokens in/out</th><th class="num">Cost</th><th>Cache</th><th>Fallbacks</th></tr></thead>
      <tbody id="call-rows">${callRows(snapshot.calls)}</tbody>
    </table></div>
  </section>
</main>`)
}

/** What a request without a valid credential gets: a sign-in form, nothing of the router's state. */
export function signInPage (reason: string, canSignIn: boolean): string {
  return document('Sign in · mcp-openai-router status', `
<header><h1>mcp-openai-router <span class="muted">status</span></h1></header>
<main class="narrow">
  <p class="notice" role="alert">${escapeHtml(reason)}</p>
  ${canSignIn
    ? `<form method="post" action="/status/sign-in" class="sign-in">
    <label for="token">METRICS_TOKEN, an operator's client key, or an access token with the status scope</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required maxlength="8192">
    <button type="submit">Sign in</button>
  </form>`
    : ''}
</main>`)
}

/** Rows for the recent calls table, newest first. */
export function callRows (calls: readonly RecentCallRow[]): string {
  return calls.map((call) => {
    const failed = call.outcome !== 'ok'
    const model = call.modelServed && call.modelServed !== call.modelRequested ? `${call.modelRequested ?? '—'} → ${call.modelServed}` : (call.modelRequested ?? call.modelServed ?? '—')
    return `<tr data-seq="${call.seq}" data-client="${escapeHtml(call.client ?? '')}" data-tool="${escapeHtml(call.tool)}" data-outcome="${failed ? 'failed' : 'ok'}">` +
      `<td><time datetime="${new Date(call.at).toISOString()}">${clock(call.at)}</time></td>` +
      `<td>${escapeHtml(call.client ?? 'anonymous')}${call.principal === undefined ? '' : ` <span class="muted">(${escapeHtml(call.principal)})</span>`}</td><td>${escapeHtml(call.tool)}</td>` +
      `<td>${escapeHtml(model)}${call.provider ? ` <span class="muted">via ${escapeHtml(call.provider)}</span>` : ''}</td>` +
      `<td><span class="badge ${failed ? 'bad' : 'good'}">${escapeHtml(call.outcome)}</span></td>` +
      `<td class="num">${milliseconds(call.durationMs)}</td><td class="num">${call.inputTokens}/${call.outputTokens}</td>` +
      `<td class="num">${call.costUsd === undefined ? '—' : usd(call.costUsd)}</td><td>${call.cache ?? '—'}</td>` +
      `<td>${call.fallbacks.length === 0 ? '—' : call.fallbacks.map(escapeHtml).join('<br>')}</td></tr>`
  }).join('')
}

function routerSection (router: RouterFactsRow, now: number): string {
  const facts: Array<[string, string]> = [
    ['Version', escapeHtml(router.version)],
    ['Protocol revisions', router.protocolVersions.map(escapeHtml).join(', ')],
    ['Sessions', `${escapeHtml(router.sessions)} · ${router.openSessions} open · ${router.openStreams} streams`],
    ['Calls running', String(router.inFlightCalls)],
    ['Uptime', duration(router.uptimeSeconds)],
    ['Shared state', router.sharedState === 'redis' ? `Redis, ${router.redisReachable ? 'reachable' : '<span class="badge bad">unreachable</span>'}` : 'this process only'],
    ['Cache hit ratio', router.cache.hitRatio === undefined ? '—' : `${percent(router.cache.hitRatio)} <span class="muted">(${router.cache.hits} hits, ${router.cache.misses} misses)</span>`],
    ['Memory', `${megabytes(router.memory.rssBytes)} RSS · ${megabytes(router.memory.heapUsedBytes)} heap`],
  ]
  const replicas = router.replicas.map((replica) => `<li${replica.id === router.replica ? ' class="self"' : ''}>${escapeHtml(replica.id)} <span class="muted">v${escapeHtml(replica.version)}, up ${duration(Math.floor((now - replica.startedAt) / 1000))}${replica.id === router.replica ? ', this page' : ''}</span></li>`).join('')
  return `<h2>Router</h2><dl class="facts">${facts.map(([name, value]) => `<div><dt>${name}</dt><dd>${value}</dd></div>`).join('')}</dl>` +
    `<h3>Replicas <span class="muted">(${router.replicas.length}${router.sharedState === 'redis' ? ' sharing Redis' : ''})</span></h3><ul class="replicas">${replicas}</ul>`
}

function providersSection (providers: readonly ProviderStatusRow[], now: number): string {
  const rows = providers.map((provider) => {
    const circuit = provider.circuit === 'open' && provider.probeAt !== undefined
      ? `open · probe in ${Math.max(0, Math.ceil((provider.probeAt - now) / 1000))} s`
      : provider.circuit === 'disabled' ? 'no circuit breaker' : provider.circuit.replace('_', '-')
    const circuitClass = { open: 'bad', half_open: 'warn', closed: 'good', disabled: 'muted' }[provider.circuit]
    const circuits = provider.modelCircuits.map(({ model, state }) => `<div class="muted">${escapeHtml(model)}: ${state.replace('_', '-')}</div>`).join('')
    const concurrency = provider.concurrency ? `${provider.concurrency.inFlight}/${provider.concurrency.max} · ${provider.concurrency.queued} queued` : '—'
    const models = provider.models.length === 0
      ? '<span class="muted">no calls in the last 5 min</span>'
      : provider.models.map((model) => `<div>${escapeHtml(model.model)}: ${model.calls} calls, <span class="${model.failures > 0 ? 'bad-text' : ''}">${percent(model.errorRate)} errors</span>, p50 ${milliseconds(model.p50Ms)}, p95 ${milliseconds(model.p95Ms)}</div>`).join('')
    return `<tr data-provider="${escapeHtml(provider.name)}"><td><strong>${escapeHtml(provider.name)}</strong><div class="muted url">${escapeHtml(provider.baseURL)}</div></td>` +
      `<td><span class="badge ${provider.ready ? 'good' : 'bad'}">${provider.ready ? 'ready' : 'not ready'}</span> <span class="muted">check ${provider.check.replace('_', ' ')}</span></td>` +
      `<td><span class="badge ${circuitClass}" data-circuit="${provider.circuit}">${circuit}</span>${provider.lastFailure ? `<div class="muted">${escapeHtml(provider.lastFailure)}</div>` : ''}${circuits}</td>` +
      `<td>${concurrency}</td><td>${models}</td></tr>`
  }).join('')
  return '<h2>Providers</h2><div class="scroll"><table class="stack"><thead><tr><th>Provider</th><th>Readiness</th><th>Circuit</th><th>Concurrency</th><th>Last 5 min per model</th></tr></thead>' +
    `<tbody>${rows}</tbody></table></div>`
}

function clientsSection (clients: readonly ClientStatusRow[], sharedState: RouterFactsRow['sharedState']): string {
  if (clients.length === 0) return '<h2>Clients</h2><p class="muted">No client keys: the router is open, and every call counts as anonymous.</p>'
  const rows = clients.map((client) => {
    const usage = client.usage.length === 0
      ? '<span class="muted">no limits</span>'
      : client.usage.map((row) => {
        const amount = (value: number) => row.measure === 'usd' ? usd(value) : String(value)
        const meter = `<meter min="0" max="${row.limit}" low="${row.limit * 0.75}" high="${row.limit * 0.9}" optimum="0" value="${Math.min(row.used, row.limit)}" data-client="${escapeHtml(client.name)}" data-measure="${row.measure}" data-period="${row.period}" data-used="${row.used}"></meter>`
        return `<div class="usage"><span class="usage-label">${row.measure === 'usd' ? 'USD' : row.measure} / ${row.period}</span>${meter}<span class="num">${amount(row.used)} / ${amount(row.limit)}</span></div>`
      }).join('')
    const refusals = client.refusals.length === 0 ? '—' : client.refusals.map(({ limit, count }) => `<div>${escapeHtml(limit)}: ${count}</div>`).join('')
    return `<tr data-client="${escapeHtml(client.name)}"><td><strong>${escapeHtml(client.name)}</strong><div class="muted">${client.access === 'key' ? 'client key' : 'OAuth only'}${client.operator ? ' · operator' : ''}</div>${client.principals.length === 0 ? '' : `<div class="muted">OAuth: ${client.principals.map(escapeHtml).join(', ')}</div>`}</td><td>${usage}</td><td>${refusals}</td></tr>`
  }).join('')
  return `<h2>Clients <span class="muted">(${sharedState === 'redis' ? 'usage across the replicas sharing Redis' : 'usage counted by this process'})</span></h2><div class="scroll"><table class="stack"><thead>` +
    '<tr><th>Client</th><th>Usage of each limit, this minute, day or month (UTC)</th><th>Refused</th></tr></thead>' +
    `<tbody>${rows}</tbody></table></div>`
}

function filter (name: string, label: string, values: readonly string[]): string {
  return `<label>${label} <select name="${name}" data-filter="${name}"><option value="">all</option>${values.map((value) => `<option>${escapeHtml(value)}</option>`).join('')}</select></label>`
}

function document (title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="${STATUS_ASSETS.icon}" type="image/svg+xml">
<link rel="stylesheet" href="${STATUS_ASSETS.style}">
<script src="${STATUS_ASSETS.script}" defer></script>
</head>
<body>${body}
</body>
</html>
`
}

const clock = (epochMs: number) => new Date(epochMs).toISOString().slice(11, 19)
const milliseconds = (ms: number) => ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`
const percent = (ratio: number) => `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.1 ? 1 : 0)}%`
const megabytes = (bytes: number) => `${(bytes / 1_048_576).toFixed(0)} MB`
const usd = (amount: number) => `$${amount >= 1 ? amount.toFixed(2) : amount >= 0.01 ? amount.toFixed(4) : amount.toPrecision(2)}`

function duration (seconds: number): string {
  if (seconds < 120) return `${seconds} s`
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min`
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`
  return `${Math.floor(seconds / 86_400)} d ${Math.floor((seconds % 86_400) / 3600)} h`
}
