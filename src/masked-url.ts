const MASK = '***'

// Query parameters that carry credentials: Azure's api-key, key, token, SAS signatures, and the like.
const secretParameter = /^(api[-_]?key|key|code|token|access[-_]?token|auth|sig|signature|secret|password|passwd)$/i

/**
 * `url` as it may be shown (the unauthenticated /ready, tool errors, logs): its user name and
 * password, and the values of query parameters named like credentials, replaced by `***`. A value
 * that is not a URL comes back as is.
 */
export function maskedUrl (url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return url
  }
  const secrets = [...new Set(parsed.searchParams.keys())].filter((name) => secretParameter.test(name))
  // Nothing to hide: the URL exactly as configured, not as URL would normalize it.
  if (!parsed.username && !parsed.password && secrets.length === 0) return url
  if (parsed.username) parsed.username = MASK
  if (parsed.password) parsed.password = MASK
  for (const name of secrets) parsed.searchParams.set(name, MASK)
  return parsed.href
}
