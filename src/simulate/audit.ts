// Platform-scope recovery facts go where the platform's backup operator sends them: audit
// events on POST /v1/audit under an admin token (tenantscope takes platform-scope facts from
// nowhere else). Counted like the OTLP exporters, so a refused fact is never silently lost.
import { emptyCounts, type ExportCounts } from './telemetry.js';
import type { RecoveryFact } from './recovery.js';

/** Events per request: well under the endpoint's limit, small enough to keep a tick short. */
const BATCH = 1000;
const ACTOR = { id: 'platform-backup-operator', type: 'service' } as const;

/** A recovery fact as an audit event (every attribute as text, as audit attributes are). */
export function auditEvent(f: RecoveryFact): Record<string, unknown> {
  const attributes = Object.fromEntries(Object.entries(f.attributes).map(([k, v]) => [k, String(v)]));
  const region = attributes.location_region ?? '';
  // Deterministic, so a rerun of the same period sends the same events.
  const id = `sim:${f.kind}:${region}:${attributes.component ?? 'dr'}:${f.timeMs}`;
  return {
    id,
    time: new Date(f.timeMs).toISOString(),
    actor: ACTOR,
    action: f.kind,
    target: { type: 'backup', id: `${attributes.component ?? 'dr'}@${region}` },
    outcome: f.kind === 'backup.failed' ? 'failure' : (attributes.outcome ?? 'success'),
    ...(region !== '' ? { region } : {}),
    attributes,
  };
}

/** Queues platform facts and posts them to /v1/audit on flush. */
export class AuditSender {
  readonly counts: ExportCounts = emptyCounts();
  readonly #url: string;
  readonly #token: string;
  #queue: Record<string, unknown>[] = [];

  constructor(endpoint: string, token: string) {
    this.#url = `${endpoint.replace(/\/$/, '')}/v1/audit`;
    this.#token = token;
  }

  add(f: RecoveryFact): void {
    this.#queue.push(auditEvent(f));
  }

  /** Post everything queued; failures are counted, never thrown. */
  async flush(): Promise<void> {
    const events = this.#queue;
    this.#queue = [];
    for (let i = 0; i < events.length; i += BATCH) await this.#post(events.slice(i, i + BATCH));
  }

  async #post(events: Record<string, unknown>[]): Promise<void> {
    this.counts.requests++;
    let failed = events.length;
    let error: string | undefined;
    try {
      const res = await fetch(this.#url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#token}` },
        body: JSON.stringify(events),
      });
      const body = (await res.json().catch(() => ({}))) as { rejected?: number; error?: { message?: string }; events?: { status: string; errors?: string[] }[] };
      if (res.ok) {
        failed = body.rejected ?? 0;
        if (failed > 0) error = body.events?.find((e) => e.status === 'rejected')?.errors?.join('; ') ?? 'events rejected';
      } else error = `HTTP ${res.status}: ${body.error?.message ?? res.statusText}`;
    } catch (e) {
      error = (e as Error).message;
    }
    this.counts.items += events.length - failed;
    this.counts.failedItems += failed;
    if (error !== undefined) {
      this.counts.failedRequests++;
      if (this.counts.errors.length < 5 && !this.counts.errors.includes(error)) this.counts.errors.push(error);
    }
  }
}
