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
