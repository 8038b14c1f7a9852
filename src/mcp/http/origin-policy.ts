const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * DNS-rebinding protection, as the MCP transport spec requires. Requests without `Origin` come
 * from servers and pass; a browser origin passes when it is on the allow-list, or, with no
 * allow-list, when it is a loopback origin.
 */
export function isOriginAllowed (origin: string | undefined, allowedOrigins: readonly string[]): boolean {
  if (origin === undefined) return true
  if (allowedOrigins.length > 0) return allowedOrigins.includes('*') || allowedOrigins.includes(origin)
  try {
    return LOOPBACK_HOSTNAMES.has(new URL(origin).hostname)
  } catch {
    return false
  }
}

/** With an allow-list (`example.com` or `example.com:8001`), only those Host headers pass. */
export function isHostAllowed (host: string | undefined, allowedHosts: readonly string[]): boolean {
  if (allowedHosts.length === 0) return true
  if (!host) return false
  const normalized = host.toLowerCase()
  const hostname = normalized.replace(/:\d+$/, '')
  return allowedHosts.includes(normalized) || allowedHosts.includes(hostname)
}
