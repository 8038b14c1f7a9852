/**
 * The status page's style sheet, served from /status/app.css: light or dark as the reader's system
 * is, laptop and phone alike.
 */
export const statusStyle = `
:root {
  color-scheme: light dark;
  --bg: #f7f7f8; --panel: #ffffff; --text: #1b1d21; --muted: #5f6570; --line: #dde0e5;
  --good: #1a7f37; --good-bg: #dcf5e3; --bad: #b42318; --bad-bg: #fde4e1; --warn: #8a5a00; --warn-bg: #fff1cc; --accent: #2357c6;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111317; --panel: #1a1d23; --text: #e6e8eb; --muted: #9aa1ad; --line: #2c313a;
    --good: #4ac26b; --good-bg: #12301d; --bad: #ff7b72; --bad-bg: #3d1614; --warn: #e3b341; --warn-bg: #3a2c05; --accent: #7aa7ff;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem 1rem; padding: 1rem clamp(.75rem, 3vw, 2rem); border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { margin: 0; font-size: 1.3rem; }
header p { margin: 0; flex: 1 1 20rem; }
header form { margin: 0; }
main { padding: 0 clamp(.75rem, 3vw, 2rem) 2rem; max-width: 100rem; margin: 0 auto; }
main.narrow { max-width: 34rem; }
section { margin-top: 1.25rem; padding: 1rem; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; }
h2 { margin: 0 0 .75rem; font-size: 1.1rem; }
h3 { margin: 1rem 0 .5rem; font-size: 1rem; }
.muted { color: var(--muted); font-weight: normal; }
.url { font-size: .85em; word-break: break-all; }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(13rem, 1fr)); gap: .5rem 1.5rem; margin: 0; }
.facts dt { color: var(--muted); font-size: .85em; }
.facts dd { margin: 0; }
.replicas { margin: 0; padding-left: 1.25rem; }
.replicas .self { font-weight: 600; }
.scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; padding: .4rem .6rem; border-bottom: 1px solid var(--line); }
th { font-size: .85em; color: var(--muted); font-weight: 600; white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.calls td { white-space: nowrap; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .85em; font-weight: 600; }
.good { color: var(--good); background: var(--good-bg); }
.bad { color: var(--bad); background: var(--bad-bg); }
.warn { color: var(--warn); background: var(--warn-bg); }
.bad-text { color: var(--bad); }
.usage { display: grid; grid-template-columns: 8.5rem minmax(6rem, 1fr) 11rem; align-items: center; gap: .5rem; }
.usage-label { color: var(--muted); font-size: .85em; }
meter { width: 100%; height: .8rem; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; margin-bottom: .5rem; }
select, input, button { font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .3rem .5rem; }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
.sign-in { display: grid; gap: .5rem; margin-top: 1rem; }
.notice { margin-top: 1.5rem; padding: .75rem 1rem; border-radius: 8px; background: var(--warn-bg); color: var(--warn); }
#updated[data-live-state="stale"] { color: var(--bad); }
#updated[data-live-state="stale"]::after { content: " (updates failing, retrying)"; }
@media (max-width: 40rem) {
  body { font-size: 14px; }
  /* Providers and clients: one card per row, its cells stacked, instead of a table wider than the phone. */
  table.stack thead { display: none; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; }
  table.stack tr { padding: .5rem 0; border-bottom: 1px solid var(--line); }
  table.stack td { border: 0; padding: .15rem 0; }
  .usage { grid-template-columns: 1fr auto; }
  .usage meter { grid-column: 1 / -1; grid-row: 2; }
}
`

/** The page's icon, so the browser's own request for one is answered (and nothing else is loaded). */
export const statusIcon = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#2357c6"/><path d="M4 8h2l1-3 2 6 1-3h2" stroke="#fff" stroke-width="1.5" fill="none"/></svg>'
