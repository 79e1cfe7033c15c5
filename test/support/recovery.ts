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

/** Send a healthy platform's recovery facts to a running tenantscope. */
export async function sendHealthyRecovery(otlpHttpUrl: string, registry: Registry, endMs = Date.now()): Promise<void> {
  const workload = loadWorkload();
  const end = Math.floor(endMs / 60_000) * 60_000;
  const facts = planRecovery({ evidence: workload.recovery, drift: workload.scenarios.steady.recovery, tenants: registry.tenants(), seed: 1, startMs: end - DAY_MS, endMs: end });
  const bySender = new Map<string, Record<string, unknown>[]>();
  for (const f of facts) {
    const attributes = Object.fromEntries(Object.entries(f.attributes).map(([k, v]) => [k, String(v)]));
    const events = bySender.get(f.sender) ?? [];
    events.push({
      time: new Date(f.timeMs).toISOString(),
      actor: { id: 'backup-operator', type: 'service' },
      action: f.kind,
      target: { type: 'backup', id: String(f.attributes.component ?? 'dr') },
      outcome: f.kind === 'backup.failed' ? 'failure' : String(f.attributes.outcome ?? 'success'),
      attributes,
    });
    bySender.set(f.sender, events);
  }
  for (const [sender, events] of bySender) {
    const token = sender === PLATFORM ? 'demo-admin' : `demo-ingest-${sender}`;
    for (let i = 0; i < events.length; i += 5000) {
      const res = await fetch(`${otlpHttpUrl}/v1/audit`, { method: 'POST', body: JSON.stringify(events.slice(i, i + 5000)), headers: { 'content-type': 'application/json', ...bearer(token) } });
      const body = (await res.json()) as { rejected: number };
      assert.ok(res.status === 200 && body.rejected === 0, `healthy recovery facts (${sender}): ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    }
  }
}
