import { isIP } from 'node:net'

/**
 * Whether a request's Host header passes ALLOWED_HOSTS (`example.com` or `example.com:8001`).
 * Without an allow-list every host passes. An IP literal (`10.1.2.3:8000`, `[fd00::1]`) always
 * passes: DNS rebinding needs a name the attacker's DNS answers for, and a browser sends an IP
 * literal only to that very address; Kubernetes probes and scrapers address the pod by its IP.
 */
export function isHostAllowed (host: string | undefined, allowedHosts: readonly string[]): boolean {
  if (allowedHosts.length === 0) return true
  if (!host) return false
  const normalized = host.toLowerCase()
  const hostname = normalized.replace(/:\d+$/, '')
  return allowedHosts.includes(normalized) || allowedHosts.includes(hostname) || isIP(hostname.replace(/^\[(.*)\]$/, '$1')) !== 0
}
