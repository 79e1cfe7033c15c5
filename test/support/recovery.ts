// A platform that backs up as its registry promises: for the day before `endMs`, every tenant's
// required components backed up at half its RPO (shared tenants by platform-scope backups of
// their tier and home region, the others with their own key), a passed restore test a day
// old, and a failover test where a DR region is required. Tests about other policies send
// this first, so a store without any backup facts (every component "never backed up") does not
// stand in for the condition they test.
import * as assert from 'uvu/assert';
import type { Registry } from '../../src/config/index.js';
import { bearer } from './server.js';

const MIN = 60_000;

function event(action: string, timeMs: number, attributes: Record<string, string>, target: Record<string, string>): Record<string, unknown> {
  return {
    time: new Date(timeMs).toISOString(),
    actor: { id: 'backup-operator', type: 'service' },
    action,
    target: { type: 'backup', id: attributes.component ?? 'dr', ...target },
    outcome: 'success',
    attributes,
  };
}

/** The facts of a healthy platform for the day (plus one RPO) before endMs. */
export function healthyRecoveryFacts(registry: Registry, endMs: number): { admin: Record<string, unknown>[]; tenants: Record<string, Record<string, unknown>[]> } {
  const admin: Record<string, unknown>[] = [];
  const tenants: Record<string, Record<string, unknown>[]> = {};
  const sharedRegions = new Set<string>();
  for (const t of registry.tenants()) {
    const r = t.recovery;
    const own: Record<string, unknown>[] = (tenants[t.id] = []);
    own.push(event('restore.tested', endMs - 1440 * MIN, { component: 'database', scope: 'tenant', duration_seconds: '600', outcome: 'success' }, {}));
    if (r.drRegionRequired) {
      const dr = t.allowedRegions.find((x) => x !== t.region) ?? t.region;
      own.push(event('failover.tested', endMs - 720 * MIN, { scope: 'tenant', location_region: dr, duration_seconds: '900', outcome: 'success' }, {}));
    }
    if (t.tier === 'shared') {
      sharedRegions.add(t.region);
      continue;
    }
    const step = (r.rpoMinutes / 2) * MIN;
    for (let at = endMs - 1440 * MIN - r.rpoMinutes * MIN; at <= endMs; at += step) {
      for (const component of r.components) {
        own.push(event('backup.completed', at, {
          component,
          scope: 'tenant',
          snapshot_time: new Date(at - MIN).toISOString(),
          retention_days: String(r.backupRetentionDays),
          location_region: t.region,
          ...(t.encryptionKeyId ? { encryption_key_id: t.encryptionKeyId } : {}),
        }, {}));
      }
    }
  }
  const shared = registry.tenants().find((t) => t.tier === 'shared');
  if (shared) {
    const r = shared.recovery;
    const step = (r.rpoMinutes / 2) * MIN;
    for (const region of sharedRegions) {
      for (let at = endMs - 1440 * MIN - r.rpoMinutes * MIN; at <= endMs; at += step) {
        for (const component of r.components) {
          admin.push(event('backup.completed', at, {
            component,
            scope: 'platform',
            tiers: 'shared',
            regions: region,
            snapshot_time: new Date(at - MIN).toISOString(),
            retention_days: String(r.backupRetentionDays),
            location_region: region,
            encryption_key_id: `kms-platform-${region}`,
          }, {}));
        }
      }
    }
  }
  return { admin, tenants };
}

/** Send a healthy platform's recovery facts to a running tenantscope. */
export async function sendHealthyRecovery(otlpHttpUrl: string, registry: Registry, endMs = Date.now()): Promise<void> {
  const { admin, tenants } = healthyRecoveryFacts(registry, endMs);
  const batches: Array<[string, Record<string, unknown>[]]> = [['demo-admin', admin], ...Object.entries(tenants).map(([id, evs]) => [`demo-ingest-${id}`, evs] as [string, Record<string, unknown>[]])];
  for (const [token, events] of batches) {
    for (let i = 0; i < events.length; i += 5000) {
      const res = await fetch(`${otlpHttpUrl}/v1/audit`, { method: 'POST', body: JSON.stringify(events.slice(i, i + 5000)), headers: { 'content-type': 'application/json', ...bearer(token) } });
      const body = (await res.json()) as { rejected: number };
      assert.ok(res.status === 200 && body.rejected === 0, `healthy recovery facts (${token}): ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    }
  }
}
