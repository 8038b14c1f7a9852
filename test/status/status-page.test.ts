import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { OAuth2Server } from 'oauth2-mock-server'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { stringify } from 'yaml'
import { bearer, METRICS_TOKEN_ENV, TEAM_A_KEY, writeClientsFile } from '../support/client-keys.js'
import { errorBody, FakeOpenAI } from '../support/fake-openai.js'
import { freePort } from '../support/ports.js'
import { RedisServer, redisAvailable } from '../support/redis.js'
import { connectClient } from '../support/router.js'
import { type RouterProcess, startRouterProcess } from '../support/router-process.js'

/**
 * Debian's chromium, which `.ci/run` installs; CHROMIUM_PATH names another build (the GitHub
 * workflow's runners have Google Chrome).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
/** Outside CI a machine without it skips this file, saying why; in CI a missing browser fails it. */
const skip = existsSync(CHROMIUM) || process.env.CI ? false : `${CHROMIUM} is not installed (apt-get install chromium, or set CHROMIUM_PATH; CI installs it)`
// Headless, and kept from reaching any host: no sandbox (containers), GPU, updates, sync or first-run pages.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage']
/** Generous: the page polls every 3 s, and a loaded 2-core machine can be seconds late. */
const SEEN_WITHIN_MS = 20_000
/** Set STATUS_SCREENSHOT=docs/status-page.png to keep the page as the test leaves it (the README shows that file). */
const SCREENSHOT = process.env.STATUS_SCREENSHOT

describe('the status page in Chromium, against a router process with client keys, OAuth and Redis', { skip }, () => {
  let issuer: OAuth2Server
  let main: FakeOpenAI
  let flaky: FakeOpenAI
  let redis: RedisServer | undefined
  let router: RouterProcess
  let browser: BrowserContext
  let profile: string
  let origin: string
  const requested: string[] = []
  const consoleErrors: Array<{ text: string, url: string }> = []

  before(async () => {
    issuer = new OAuth2Server()
    await issuer.issuer.keys.generate('RS256')
    await issuer.start(0, '127.0.0.1')
    main = await FakeOpenAI.start()
    flaky = await FakeOpenAI.start()
    redis = redisAvailable ? await RedisServer.start() : undefined
    const dir = await mkdtemp(join(tmpdir(), 'status-page-'))
    const routing = join(dir, 'routing.yaml')
    await writeFile(routing, stringify({
      providers: [
        { name: 'main', baseURL: main.baseURL, apiKeyEnv: 'ROUTED_TEST_KEY', maxConcurrency: 8, circuitBreaker: { failureThreshold: 5, cooldownMs: 600_000 } },
        { name: 'flaky', baseURL: flaky.baseURL, apiKeyEnv: 'ROUTED_TEST_KEY', circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } },
      ],
    }))
    const port = await freePort()
    origin = `http://127.0.0.1:${port}`
    router = await startRouterProcess({
      PORT: String(port),
      PUBLIC_URL: origin,
      OAUTH_ISSUER: issuer.issuer.url as string,
      OAUTH_STATUS_SCOPE: 'mcp:status',
      // Even with bodies in the log lines, the page shows none.
      LOG_BODIES: 'full',
      ROUTER_CONFIG: routing,
      ROUTED_TEST_KEY: 'sk-routed-test',
      UPSTREAM_MAX_RETRIES: '0',
      CLIENT_KEYS_FILE: await writeClientsFile({ tokensPerDay: 5000, usdPerDay: 1, requestsPerMinute: 600 }),
      ...METRICS_TOKEN_ENV,
      ...(redis && redis.routerEnv),
    })
    profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'))
    // A fresh profile of its own: Playwright passes it as --user-data-dir.
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000, viewport: { width: 1280, height: 900 }, colorScheme: 'light' })
  })

  after(async () => {
    await browser?.close()
    await router?.kill()
    await redis?.stop()
    await Promise.all([main?.close(), flaky?.close(), issuer?.stop()])
    if (profile) await rm(profile, { recursive: true, force: true })
  })

  async function openPage (): Promise<Page> {
    const page = await browser.newPage()
    page.on('request', (request) => requested.push(request.url()))
    page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push({ text: message.text(), url: message.location().url }) })
    page.on('pageerror', (error) => consoleErrors.push({ text: error.message, url: page.url() }))
    return page
  }

  async function chat (model: string) {
    const client = await connectClient({ mcpUrl: new URL('/mcp', origin) }, bearer(TEAM_A_KEY))
    try {
      return await client.callTool({ name: 'chat', arguments: { prompt: 'a secret prompt', model } })
    } finally {
      await client.close()
    }
  }

  const tokensToday = async (page: Page) => Number(await page.locator('meter[data-client="team-a"][data-measure="tokens"][data-period="day"]').getAttribute('data-used'))

  test('a missing or wrong token gets a sign-in form and none of the router\'s state', async () => {
    const page = await openPage()
    const first = await page.goto(`${origin}/status`)
    assert.equal(first?.status(), 401)
    assert.equal(await page.locator('form[action="/status/sign-in"]').count(), 1)
    await page.fill('#token', 'not-the-metrics-token-0123456789')
    const [wrong] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')])
    assert.equal(wrong?.status(), 401)
    const text = await page.locator('body').innerText()
    assert.doesNotMatch(text, /team-a|main|flaky|gpt-4\.1/)
    assert.equal(await page.locator('#call-rows').count(), 0)
    await page.close()
  })

  test('signed in, it shows calls made through MCP within seconds, a client\'s budget bar moving, and an open circuit', async () => {
    const page = await openPage()
    await page.goto(`${origin}/status`)
    await page.fill('#token', METRICS_TOKEN_ENV.METRICS_TOKEN)
    const [signedIn] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')])
    assert.equal(signedIn?.status(), 200)
    assert.match(await page.locator('header').innerText(), /read as METRICS_TOKEN/)
    const before = await tokensToday(page)

    assert.equal((await chat('main/gpt-4.1-mini')).isError, undefined)
    const firstRow = page.locator('#call-rows tr[data-client="team-a"][data-tool="chat"][data-outcome="ok"]')
    await firstRow.first().waitFor({ timeout: SEEN_WITHIN_MS })
    assert.match(await firstRow.first().innerText(), /gpt-4\.1-mini[\s\S]*via main[\s\S]*ok/)
    // Evaluated in the page (this file has no DOM types): the bar's value grows once the next update lands.
    await page.waitForFunction(`Number(document.querySelector('meter[data-client="team-a"][data-measure="tokens"][data-period="day"]')?.getAttribute('data-used')) > ${before}`, undefined, { timeout: SEEN_WITHIN_MS })
    assert.ok(await tokensToday(page) > before, 'the day\'s token bar moved')

    flaky.script('POST /v1/responses', { status: 500, json: errorBody('The server had an error while processing your request.', 'server_error') })
    assert.equal((await chat('flaky/gpt-4.1')).isError, true)
    await page.locator('tr[data-provider="flaky"] [data-circuit="open"]').waitFor({ timeout: SEEN_WITHIN_MS })
    assert.match(await page.locator('tr[data-provider="flaky"]').innerText(), /open · probe in \d+ s/)
    await page.locator('#call-rows tr[data-outcome="failed"]').first().waitFor({ timeout: SEEN_WITHIN_MS })
    assert.match(await page.locator('#call-rows tr[data-outcome="failed"]').first().innerText(), /upstream_unavailable/)

    await page.selectOption('select[data-filter="outcome"]', 'failed')
    assert.equal(await page.locator('#call-rows tr[data-outcome="ok"]:visible').count(), 0, 'the filter hides the calls that succeeded')
    await page.selectOption('select[data-filter="outcome"]', '')
    assert.doesNotMatch(await page.locator('body').innerText(), /a secret prompt|mor_team-a/, 'no prompt, no key')
    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true })

    // A phone in dark mode: the page fits its width (wide tables scroll inside their section) and turns dark.
    await page.setViewportSize({ width: 390, height: 844 })
    await page.emulateMedia({ colorScheme: 'dark' })
    assert.equal(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, 'no sideways scrolling of the page')
    assert.equal(await page.evaluate('getComputedStyle(document.body).backgroundColor'), 'rgb(17, 19, 23)')
    await page.close()
  })

  test('signing out ends the session; an OAuth access token with OAUTH_STATUS_SCOPE signs in too', async () => {
    const page = await openPage()
    assert.equal((await page.goto(`${origin}/status`))?.status(), 200, 'still signed in')
    const [signedOut] = await Promise.all([page.waitForNavigation(), page.click('button:has-text("Sign out")')])
    assert.equal(signedOut?.status(), 401)
    const accessToken = await issuer.issuer.buildToken({ scopesOrTransform: (_header, payload) => { Object.assign(payload, { sub: 'team-b', aud: `${origin}/mcp`, scope: 'mcp:status' }) } })
    await page.fill('#token', accessToken)
    const [signedIn] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')])
    assert.equal(signedIn?.status(), 200)
    assert.match(await page.locator('header').innerText(), /read as OAuth team-b/)
    await page.close()
  })

  test('the page had no console error and asked nothing of any other origin', () => {
    assert.ok(requested.length > 0)
    assert.deepEqual(requested.filter((url) => new URL(url).origin !== origin), [])
    assert.ok(requested.some((url) => url.startsWith(`${origin}/status/live`)), 'it updated itself')
    // Chromium reports the sign-in page's own 401 as a failed load; that answer is the point of the first test.
    const expected = ({ text, url }: { text: string, url: string }) => /status of 401/.test(text) && [`${origin}/status`, `${origin}/status/sign-in`].includes(url)
    assert.ok(consoleErrors.some(expected), 'the refusals were seen')
    assert.deepEqual(consoleErrors.filter((error) => !expected(error)), [])
  })
})
