import { createHash } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const sha256 = (key: string) => createHash('sha256').update(key).digest('hex')

export const TEAM_A_KEY = 'mor_team-a-secret-key-0123456789'
export const TEAM_B_KEY = 'mor_team-b-secret-key-9876543210'

/** A clients file with two teams: team-a may call gpt-4.1* only, team-b anything. */
export async function writeClientsFile (extra: Record<string, unknown> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'clients-'))
  const path = join(dir, 'clients.yaml')
  await writeFile(path, JSON.stringify({
    clients: [
      { name: 'team-a', keyHash: sha256(TEAM_A_KEY), models: ['gpt-4.1*', 'embed-*'], ...extra },
      { name: 'team-b', keyHash: `sha256:${sha256(TEAM_B_KEY)}` },
    ],
  }))
  return path
}

/** With client keys, /metrics is served only for a METRICS_TOKEN: the environment and the header that go with it. */
export const METRICS_TOKEN_ENV = { METRICS_TOKEN: 'metrics-scraper-token-0123456789' }
export const METRICS_AUTHORIZATION = { authorization: `Bearer ${METRICS_TOKEN_ENV.METRICS_TOKEN}` }

/** Request options carrying a client key, for `connectClient`. */
export const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } })
