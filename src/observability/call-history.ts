import type { CallRecord } from './call-record.js'
import type { RecentCalls } from './recent-calls.js'
import type { UpstreamHealth } from './upstream-health.js'

/**
 * What this replica remembers of its finished tool calls, for the status page: the calls
 * themselves, and how their upstreams fared.
 */
export class CallHistory {
  constructor (readonly calls: RecentCalls, readonly upstream: UpstreamHealth) {}

  finished (record: CallRecord): void {
    this.calls.add(record)
    for (const result of record.upstream) this.upstream.add(result)
  }
}
