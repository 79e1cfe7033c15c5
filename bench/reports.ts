// Report query benchmark: loads 10 million spans for 50 tenants over 7 days into chDB (one
// INSERT ... SELECT, so loading is not what is measured), plus a usage row per tenant and
// minute, and prints p50/p95 of each report query: per tenant over its default window, and
// the platform-wide views (noisy neighbours over the last day, cost over the 7 days, incidents
// over the last day: its burn windows read the three days before it too). Then the
// recovery report over a year of hourly backup facts: 50 tenants x 5 components x 8,760 hours
// (2.19 million facts; every hundredth backup missing, so there are stale windows to find),
// with a restore test a week and a failed backup a day per tenant.
//
//   npm run bench:reports -- --spans 10000000 --runs 5 [--only incidents] [--keep DIR]
//
// --only times the reports whose name contains the word; --keep loads into DIR and leaves it
// there, and a later run with the same DIR skips the load and times the same data again.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadRegistry, type TenantRecord } from '../src/config/index.js';
import { ChdbStore, migrate } from '../src/store/index.js';
import { sloReport } from '../src/reports/slo.js';
import { noisyNeighborReport } from '../src/reports/noisy.js';
import { costReport } from '../src/reports/cost.js';
import { rollUpStoredSpans, thresholdsOf } from '../test/support/rollup.js';
import { platformRecovery, recoveryReport } from '../src/reports/recovery.js';
import { incidentsReport } from '../src/reports/incidents.js';
import { standaloneRecoveryJudge } from '../src/policy/recovery-judge.js';
import { fiftyTenantRegistryYaml } from './workload.js';

const { values: args } = parseArgs({ options: { spans: { type: 'string', default: '10000000' }, runs: { type: 'string', default: '5' }, only: { type: 'string' }, keep: { type: 'string' } } });
const SPANS = Number(args.spans);
const RUNS = Number(args.runs);
const DAYS = 7;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const dir = args.keep ?? mkdtempSync(join(tmpdir(), 'tenantscope-bench-reports-'));
  mkdirSync(dir, { recursive: true });
  const loaded = args.keep !== undefined && existsSync(join(dir, 'now.txt'));
  const registryFile = join(dir, 'tenants-50.yaml');
  writeFileSync(registryFile, fiftyTenantRegistryYaml());
  const registry = loadRegistry(registryFile);
  const tenants = registry.tenants();
  const burningFile = join(dir, 'tenants-50-strict.yaml');
  writeFileSync(burningFile, fiftyTenantRegistryYaml({ availability: 0.9999 }));
  const burning = loadRegistry(burningFile);
  const store = await ChdbStore.open(join(dir, 'data'));
  await migrate(store);

  const now = loaded ? Number(readFileSync(join(dir, 'now.txt'), 'utf8')) : Date.now();
  if (loaded) console.log(`reusing the data loaded into ${dir} at ${new Date(now).toISOString()}`);
  else await load(store, tenants, now);
  if (args.keep !== undefined) writeFileSync(join(dir, 'now.txt'), String(now));

  const recoveryStart = performance.now();
  const wantRecovery = !loaded && (!args.only || 'recovery'.includes(args.only) || args.only.includes('recovery'));
  const facts = !wantRecovery ? 0 : await loadRecoveryFacts(store, tenants.map((t) => t.id), now);
  console.log(`loaded ${facts.toLocaleString('en')} recovery facts (a year, hourly, 5 components, ${tenants.length} tenants) in ${((performance.now() - recoveryStart) / 1000).toFixed(1)} s`);
  while (Number((await store.query<{ n: string }>('SELECT count() AS n FROM system.merges'))[0]!.n) > 0) await new Promise((r) => setTimeout(r, 500));
  const judge = standaloneRecoveryJudge(registry);

  const day = { fromMs: now - 86_400_000, toMs: now };
  const week = { fromMs: now - DAYS * 86_400_000, toMs: now };
  // [name, query, calls per run: every tenant, or the platform view PLATFORM_CALLS times]
  const PLATFORM_CALLS = 10;
  const reports: [string, (tenantIndex: number) => Promise<unknown>, number][] = [
    ['slo (28-day window, 7 burn windows)', (i) => sloReport(store, tenants[i % tenants.length]!, { toMs: now }), tenants.length],
    ['noisy neighbours, platform (1 day)', () => noisyNeighborReport(store, day), PLATFORM_CALLS],
    ['noisy neighbours, tenant view (1 day)', (i) => noisyNeighborReport(store, { ...day, tenant: tenants[i % tenants.length]!.id }), tenants.length / 5],
    ['cost, platform (7 days)', () => costReport(store, registry, week), PLATFORM_CALLS],
    ['cost, tenant view (7 days)', (i) => costReport(store, registry, { ...week, tenant: tenants[i % tenants.length]!.id }), tenants.length / 5],
    ['incidents, platform (1 day)', () => incidentsReport(store, registry, day, now), PLATFORM_CALLS],
    // The same spans judged by a 99.99% objective, five times stricter than their error rate:
    // every tenant and service burns its budget all week, the most work an incidents query has.
    ['incidents, every tenant burning (1 day)', () => incidentsReport(store, burning, day, now), PLATFORM_CALLS],
    ['recovery, tenant (30 days, with policy)', (i) => recoveryReport(store, tenants[i % tenants.length]!, { toMs: now }, judge, now), tenants.length],
    ['recovery, tenant (365 days, with policy)', (i) => recoveryReport(store, tenants[i % tenants.length]!, { fromMs: now - 365 * 86_400_000, toMs: now }, judge, now), tenants.length / 5],
    ['recovery, platform (30 days, 50 tenants)', () => platformRecovery(store, registry, { toMs: now }, judge, now), 2],
  ];
  for (const [name, run, calls] of reports.filter(([name]) => !args.only || name.includes(args.only))) {
    await run(0); // warm-up: first read of each column
    const times: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      for (let i = 0; i < calls; i++) {
        const t0 = performance.now();
        await run(i);
        times.push(performance.now() - t0);
      }
    }
    times.sort((a, b) => a - b);
    console.log(`${name.padEnd(40)} p50 ${percentile(times, 50).toFixed(1)} ms  p95 ${percentile(times, 95).toFixed(1)} ms  max ${times[times.length - 1]!.toFixed(1)} ms  (${times.length} queries)  rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
  }
  await store.close();
  if (args.keep === undefined) rmSync(dir, { recursive: true, force: true });
}

/** The spans, usage rows and rollup of the benchmark, timed apart from the reports. */
async function load(store: ChdbStore, tenants: readonly TenantRecord[], now: number): Promise<void> {
  const loadStart = performance.now();
  // Tenants get Zipf-like shares (the biggest ~10x the median); 5 services; a server span with
  // a client child for every request; 0.05% errors (half the shared tier's 0.1% budget);
  // log-normal-ish durations. Two incidents planted in the last day: umbrella-pharma's
  // order-api fails 30% of requests for 20 minutes from 3 hours ago, and every tenant fails
  // 20% for 10 minutes from 10 hours ago.
  await store.exec(
    `INSERT INTO spans (tenant_id, service_name, start_time, end_time, duration_ns, trace_id, span_id, name, kind, status_code, resource_attributes, attributes, retention_days)
     WITH {tenants:Array(String)} AS tenants
     SELECT
       tenants[1 + toUInt32(floor(pow(rand(1) / 4294967296.0, 2.2) * length(tenants)))] AS tenant_id,
       ['order-api', 'inventory-svc', 'edi-gateway', 'warehouse-scanner', 'billing-svc'][1 + (number % 5)] AS service_name,
       fromUnixTimestamp64Milli({now:Int64} - toInt64(rand(2) % {spanMs:UInt64})) AS start_time,
       start_time + toIntervalNanosecond(duration_ns) AS end_time,
       toUInt64(20000000 * exp(randNormal(0, 0.8))) AS duration_ns,
       lower(hex(cityHash64(number))) AS trace_id,
       lower(hex(cityHash64(number, 1))) AS span_id,
       'POST /orders' AS name,
       if(number % 2 = 0, 2, 3) AS kind,
       if(rand(3) % 2000 = 0
          OR (tenant_id = 'umbrella-pharma' AND service_name = 'order-api' AND start_time >= fromUnixTimestamp64Milli({now:Int64} - 3 * 3600000) AND start_time < fromUnixTimestamp64Milli({now:Int64} - 3 * 3600000 + 20 * 60000) AND rand(4) % 10 < 3)
          OR (start_time >= fromUnixTimestamp64Milli({now:Int64} - 10 * 3600000) AND start_time < fromUnixTimestamp64Milli({now:Int64} - 10 * 3600000 + 10 * 60000) AND rand(4) % 10 < 2), 2, 0) AS status_code,
       map('service.instance.id', concat(service_name, '-', toString(number % 3))) AS resource_attributes,
       if(kind = 3, map('db.system', 'postgresql', 'db.client.connection.pool.name', 'pg-shared'), map()) AS attributes,
       30 AS retention_days
     FROM numbers({n:UInt64})`,
    { n: SPANS, now, spanMs: DAYS * 86_400_000, tenants: tenants.map((t) => t.id) },
  );
  // One accepted-usage row per tenant and minute (what ingest writes per request and tenant).
  await store.exec(
    `INSERT INTO ingest_usage (tenant_id, time, signal, outcome, records, bytes, encoding, retention_days, kept_days)
     WITH {tenants:Array(String)} AS tenants
     SELECT tenants[1 + (number % length(tenants))], fromUnixTimestamp64Milli({now:Int64} - intDiv(number, length(tenants)) * 60000),
            'spans', 'accepted', 200, 200 * 600, 'protobuf', 365, 30
       FROM numbers({n:UInt64})
     SETTINGS max_block_size = 65536`,
    { n: DAYS * 1440 * tenants.length, now, tenants: tenants.map((t) => t.id) },
  );
  // The per-minute rollup: ingest sums each request's spans into it as they arrive; these spans
  // went straight into the store, so they are summed in one pass.
  await rollUpStoredSpans(store, undefined, thresholdsOf(tenants));
  const loadSecs = (performance.now() - loadStart) / 1000;
  // On a running service background merges fold the rollup's parts as they arrive. Merge
  // now, as those would have, and say so.
  const mergeStart = performance.now();
  await store.exec('OPTIMIZE TABLE resource_minutes FINAL');
  // Wait for the background merges of the load to finish: a running service is not merging
  // ten million just-inserted spans at the moment it answers a report.
  while (Number((await store.query<{ n: string }>('SELECT count() AS n FROM system.merges'))[0]!.n) > 0) await new Promise((r) => setTimeout(r, 500));
  const rollup = (await store.query<{ rows: string; parts: string }>(
    "SELECT (SELECT count() FROM resource_minutes) AS rows, (SELECT count() FROM system.parts WHERE table = 'resource_minutes' AND active) AS parts",
  ))[0]!;
  const rows = Number((await store.query<{ n: string }>('SELECT count() AS n FROM spans'))[0]!.n);
  console.log(`loaded ${rows.toLocaleString('en')} spans for ${tenants.length} tenants over ${DAYS} days in ${loadSecs.toFixed(1)} s`);
  console.log(`rollup: ${Number(rollup.rows).toLocaleString('en')} resource-minute rows in ${rollup.parts} parts (merged in ${((performance.now() - mergeStart) / 1000).toFixed(1)} s)`);

}

// A year of hourly backups of every component of every tenant (the snapshot taken as each
// completes, so an hourly RPO is just met), every hundredth one missing; a restore test a week
// and a failed backup a day per tenant. Loaded with INSERT ... SELECT: loading is not measured.
async function loadRecoveryFacts(store: ChdbStore, tenants: string[], now: number): Promise<number> {
  const hours = 365 * 24;
  await store.exec(
    `INSERT INTO recovery_events (tenant_id, kind, component, scope, time, snapshot_time, outcome, size_bytes, encryption_key_id, backup_retention_days, location_region, source, event_id, reporter, retention_days, received_at)
     WITH {tenants:Array(String)} AS tenants, ['database', 'object_storage', 'queue', 'config', 'integration_state'] AS components
     SELECT tenants[1 + intDiv(number, 5 * {hours:UInt64})], 'backup.completed', components[1 + number % 5], 'tenant',
            fromUnixTimestamp64Milli({now:Int64} - toInt64(intDiv(number, 5) % {hours:UInt64}) * 3600000) AS t, t, 'success',
            1073741824, 'kms-bench', 90, 'us-east-1', 'audit', toString(number), 'backup-operator', 400, t
       FROM numbers({n:UInt64}) WHERE cityHash64(intDiv(number, 5)) % 100 != 0
     SETTINGS max_block_size = 65536`,
    { n: tenants.length * 5 * hours, hours, now, tenants },
  );
  await store.exec(
    `INSERT INTO recovery_events (tenant_id, kind, component, scope, time, snapshot_time, outcome, duration_seconds, verified_records, source, event_id, reporter, retention_days, received_at)
     WITH {tenants:Array(String)} AS tenants
     SELECT tenants[1 + number % length(tenants)], 'restore.tested', 'database', 'tenant',
            fromUnixTimestamp64Milli({now:Int64} - toInt64(intDiv(number, length(tenants))) * 7 * 86400000 - 3600000) AS t, t, 'success', 1800, 1000000, 'audit', concat('rt-', toString(number)), 'backup-operator', 400, t
       FROM numbers({n:UInt64})`,
    { n: tenants.length * 52, now, tenants },
  );
  await store.exec(
    `INSERT INTO recovery_events (tenant_id, kind, component, scope, time, snapshot_time, outcome, source, event_id, reporter, retention_days, received_at)
     WITH {tenants:Array(String)} AS tenants
     SELECT tenants[1 + number % length(tenants)], 'backup.failed', 'queue', 'tenant',
            fromUnixTimestamp64Milli({now:Int64} - toInt64(intDiv(number, length(tenants))) * 86400000 - 1800000) AS t, t, 'failure', 'audit', concat('bf-', toString(number)), 'backup-operator', 400, t
       FROM numbers({n:UInt64})`,
    { n: tenants.length * 365, now, tenants },
  );
  return Number((await store.query<{ n: string }>('SELECT count() AS n FROM recovery_events'))[0]!.n);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
