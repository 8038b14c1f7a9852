/**
 * The status page's one script, served from /status/app.js: plain JavaScript kept here as text,
 * so the page needs no build step and the package ships it inside its compiled output. It keeps
 * the server-rendered page current: every few seconds it asks for the sections again and for the
 * calls newer than the last it has, adds those at the top and drops the oldest, so a page left
 * open for a day holds as many rows as one just opened. The server renders and escapes every
 * piece of markup; the filters only hide rows. The browser test (test/status/status-page.test.ts)
 * runs it in Chromium.
 */
export const statusScript = String.raw`'use strict'
const POLL_MS = 3000
const MAX_BACKOFF_MS = 60_000
const MAX_ROWS = 500

const main = document.querySelector('main[data-since]')
const rows = document.getElementById('call-rows')
const updated = document.getElementById('updated')
const filters = document.getElementById('call-filters')

let since = Number(main?.dataset.since ?? 0)
let failures = 0
let timer

function selected () {
  const chosen = {}
  for (const select of filters?.querySelectorAll('select[data-filter]') ?? []) chosen[select.dataset.filter] = select.value
  return chosen
}

function applyFilters (scope) {
  const chosen = selected()
  for (const row of scope.querySelectorAll('tr[data-seq]')) {
    row.hidden = Object.entries(chosen).some(([name, value]) => value !== '' && row.dataset[name] !== value)
  }
}

/** New tool names seen in new rows become options of the tool filter. */
function learnOptions () {
  for (const select of filters?.querySelectorAll('select[data-filter="tool"]') ?? []) {
    const known = new Set([...select.options].map((option) => option.value))
    for (const row of rows.querySelectorAll('tr[data-tool]')) {
      if (known.has(row.dataset.tool)) continue
      known.add(row.dataset.tool)
      select.add(new Option(row.dataset.tool, row.dataset.tool))
    }
  }
}

async function update () {
  timer = undefined
  if (document.hidden) return
  try {
    const response = await fetch('/status/live?since=' + since, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
    // Signed out, or the session expired: the page itself says what to do.
    if (response.status === 401 || response.status === 403) {
      window.location.reload()
      return
    }
    if (!response.ok) throw new Error('HTTP ' + response.status)
    const live = await response.json()
    for (const [id, html] of Object.entries(live.sections)) {
      const section = document.getElementById(id)
      if (section) section.innerHTML = html
    }
    if (live.calls !== '') {
      rows.insertAdjacentHTML('afterbegin', live.calls)
      while (rows.rows.length > MAX_ROWS) rows.deleteRow(-1)
      learnOptions()
      applyFilters(rows)
    }
    // A replica that restarted (or another one answering) counts from its own start: begin again from what it has.
    if (live.lastSeq < since) rows.replaceChildren()
    since = live.lastSeq < since ? 0 : live.lastSeq
    updated.textContent = new Date(live.generatedAt).toISOString().slice(11, 19)
    updated.dataset.liveState = 'live'
    failures = 0
  } catch {
    failures++
    updated.dataset.liveState = 'stale'
  } finally {
    schedule()
  }
}

function schedule () {
  clearTimeout(timer)
  timer = setTimeout(update, Math.min(MAX_BACKOFF_MS, POLL_MS * 2 ** failures))
}

if (main && rows && updated) {
  filters?.addEventListener('change', () => applyFilters(rows))
  filters?.addEventListener('submit', (event) => event.preventDefault())
  document.addEventListener('visibilitychange', () => { if (!document.hidden) schedule() })
  applyFilters(rows)
  schedule()
}
`
