// The per-minute sums of spans on shared resources that fill `resource_minutes` (the rollup
// the noisy-neighbour and cost reports read). They are summed here, per request, instead of
// by a materialized view on `spans`: a view runs, and writes a part, with every insert of
// spans, which cost a third of each insert; these sums are a few rows per request and ride,
// deferred, with about one insert a second (src/ingest/writer.ts). The view of migration 0008
// turns them into the rollup's aggregate states.
//
// Failed spans and slow server spans are counted too, with a failing span's trace (migration
// 0011): the incidents report slides its burn windows over these minutes and takes its
// exemplar traces from them. `slow` is judged by the tenant's latency
// threshold at ingest, and the threshold is written beside it so a reader can tell when the
// registry has moved on.
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
  errors: number;
  slow: number;
  /** The greatest trace id of a failing span (as the rollup's merges keep it), '' for none. */
  failedTrace: string;
}

const SPAN_KIND_SERVER = 2;
const STATUS_ERROR = 2;

/** One tenant's spans of one request, summed per minute, resource and span name. */
export class MinuteSums {
  private readonly sums = new Map<string, Sum>();

  constructor(
    private readonly tenantId: string,
    private readonly retentionDays: number,
    /** When the spans were received (ms); the rollup keeps them for the retention from then. */
    private readonly receivedMs: number,
    /** The tenant's latency threshold (ns): a server span longer than this is slow. 0 when not known. */
    private readonly slowNs = 0,
  ) {}

  /** Count a stored span of `service` that started in `minute` (since the epoch) and took `durationNs`. */
  add(span: SpanRecord, service: string, minute: number, durationNs: number): void {
    const resource = sharedResource(span.kind, service, span.attributes);
    if (resource === '') return;
    const key = `${minute}\0${resource}\0${span.name}`;
    const error = span.statusCode === STATUS_ERROR ? 1 : 0;
    const slow = span.kind === SPAN_KIND_SERVER && this.slowNs > 0 && durationNs > this.slowNs ? 1 : 0;
    const s = this.sums.get(key);
    if (!s) {
      this.sums.set(key, { minute, resource, name: span.name, requests: 1, busyNs: durationNs, slowestNs: durationNs, slowestTrace: span.traceId, errors: error, slow, failedTrace: error ? span.traceId : '' });
      return;
    }
    s.requests++;
    s.errors += error;
    s.slow += slow;
    if (error && span.traceId > s.failedTrace) s.failedTrace = span.traceId;
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
        errors: s.errors, slow: s.slow, slow_threshold_ns: this.slowNs, failed_trace: s.failedTrace,
      })),
    );
  }
}
