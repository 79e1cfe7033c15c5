// The per-minute sums of spans on shared resources that fill `resource_minutes` (the rollup
// the noisy-neighbour and cost reports read). They are summed here, per request, instead of
// by a materialized view on `spans`: a view runs, and writes a part, with every insert of
// spans, which cost a third of each insert; these sums are a few rows per request and ride,
// deferred, with about one insert a second (src/ingest/writer.ts). The view of migration 0008
// turns them into the rollup's aggregate states.
//
// sharedResource must name what the `spans.shared_resource` column (migration 0004) computes
// for the same span; test/rollup.test.ts checks the two against each other in the store.
import type { Attributes, SpanRecord } from './otlp/types.js';
import { chunkOf, type ColumnChunk } from '../store/native.js';
import { RESOURCE_MINUTE_SUMS } from '../store/schemas.js';

/** The shared resource a span ran on (see migration 0004), or '' for none. */
export function sharedResource(kind: number, service: string, attributes: Attributes): string {
  if (kind === 2) return `service:${service}`;
  const pool = attributes['db.client.connection.pool.name'] ?? '';
  if (pool !== '') return `db:${pool}`;
  const destination = attributes['messaging.destination.name'] ?? '';
  if (destination !== '') return `queue:${destination}`;
  const system = attributes['db.system'] ?? '';
  if (system === '') return '';
  const host = attributes['server.address'] ?? '';
  return host === '' ? `db:${system}` : `db:${system}@${host}`;
}

// Nanoseconds as numbers: a sum stays exact up to 2^53 ns (104 days of busy time in one
// request's minute on one resource).
interface Sum {
  minute: number;
  resource: string;
  name: string;
  requests: number;
  busyNs: number;
  slowestNs: number;
  slowestTrace: string;
}

/** One tenant's spans of one request, summed per minute, resource and span name. */
export class MinuteSums {
  private readonly sums = new Map<string, Sum>();

  constructor(
    private readonly tenantId: string,
    private readonly retentionDays: number,
    /** When the spans were received (ms); the rollup keeps them for the retention from then. */
    private readonly receivedMs: number,
  ) {}

  /** Count a stored span of `service` that started in `minute` (since the epoch) and took `durationNs`. */
  add(span: SpanRecord, service: string, minute: number, durationNs: number): void {
    const resource = sharedResource(span.kind, service, span.attributes);
    if (resource === '') return;
    const key = `${minute}\0${resource}\0${span.name}`;
    const s = this.sums.get(key);
    if (!s) {
      this.sums.set(key, { minute, resource, name: span.name, requests: 1, busyNs: durationNs, slowestNs: durationNs, slowestTrace: span.traceId });
      return;
    }
    s.requests++;
    s.busyNs += durationNs;
    if (durationNs > s.slowestNs) {
      s.slowestNs = durationNs;
      s.slowestTrace = span.traceId;
    }
  }

  /** The sums as a `resource_minute_sums` chunk. */
  chunk(): ColumnChunk {
    const received = Math.floor(this.receivedMs / 1000);
    return chunkOf(
      RESOURCE_MINUTE_SUMS,
      [...this.sums.values()].map((s) => ({
        minute: s.minute * 60, resource: s.resource, tenant_id: this.tenantId, name: s.name, requests: s.requests,
        busy_ns: s.busyNs, slowest_trace: s.slowestTrace, slowest_ns: s.slowestNs, retention_days: this.retentionDays, received,
      })),
    );
  }
}
