// A platform that backs up as its registry promises, for the day before `endMs`: the
// simulator's plan of a normal scenario (steady), sent as audit events. Tests about other
// policies send this first, so a store without any backup facts (every component "never backed
// up") does not stand in for the condition they test.
import * as assert from 'uvu/assert';
import type { Registry } from '../../src/config/index.js';
import { loadWorkload } from '../../src/simulate/index.js';
import { planRecovery, PLATFORM } from '../../src/simulate/recovery.js';
import { bearer } from './server.js';

const DAY_MS = 86_400_000;

let seq = 0;
/** A backup or recovery fact as an audit event (outcome from the action: backup.failed fails). */
export function recoveryFact(action: string, timeMs: number, attributes: Record<string, string>, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `fact-${++seq}`,
    time: new Date(timeMs).toISOString(),
    actor: { id: 'backup-operator', type: 'service' },
    action,
    target: { type: 'backup', id: attributes.component ?? 'dr' },
    outcome: action === 'backup.failed' ? 'failure' : (attributes.outcome ?? 'success'),
    attributes,
    ...over,
  };
}

/** POST facts to /v1/audit under `token`, a thousand a request; every one must be stored. */
export async function postFacts(otlpHttpUrl: string, token: string, events: readonly unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const res = await fetch(`${otlpHttpUrl}/v1/audit`, { method: 'POST', body: JSON.stringify(events.slice(i, i + 1000)), headers: { 'content-type': 'application/json', ...bearer(token) } });
    const body = (await res.json()) as { rejected: number };
    assert.ok(res.status === 200 && body.rejected === 0, `facts under ${token}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
}

/** Send a healthy platform's recovery facts to a running tenantscope. */
export async function sendHealthyRecovery(otlpHttpUrl: string, registry: Registry, endMs = Date.now()): Promise<void> {
  const workload = loadWorkload();
  const end = Math.floor(endMs / 60_000) * 60_000;
  const facts = planRecovery({ evidence: workload.recovery, drift: workload.scenarios.steady.recovery, tenants: registry.tenants(), seed: 1, startMs: end - DAY_MS, endMs: end });
  const bySender = new Map<string, Record<string, unknown>[]>();
  for (const f of facts) {
    const attributes = Object.fromEntries(Object.entries(f.attributes).map(([k, v]) => [k, String(v)]));
    const events = bySender.get(f.sender) ?? [];
    events.push(recoveryFact(f.kind, f.timeMs, attributes));
    bySender.set(f.sender, events);
  }
  for (const [sender, events] of bySender) await postFacts(otlpHttpUrl, sender === PLATFORM ? 'demo-admin' : `demo-ingest-${sender}`, events);
}
