// Tenant lifecycle benchmark: export, erase and restore of one tenant holding --spans spans
// among --tenants tenants with data, on a running service under a steady ingest load from
// other tenants. Prints for each phase its seconds, rows and rows/s, the load's latency
// (p50, p99, max) in that phase against a baseline window, the process's CPU and peak RSS;
// then the engine's own figures for the same work (a raw Parquet SELECT of the tenant's spans,
// a raw INSERT ... SELECT FROM file() of that file) so the lifecycle's rates can be read
// against what the engine does without the manifest, fingerprints and checks around it.
//
//   npm run bench:lifecycle [-- --spans 1000000 --tenants 10 --load-seconds 10 --tenant globex-3pl]
//
// The data: the exported tenant gets exactly --spans spans, the other tenants with data as
// many again in all, evenly, over --days days (one INSERT ... SELECT FROM numbers(), as in
// bench/reports.ts; a server span with attributes of an HTTP request, then a database client
// span with a pool event), a usage row per tenant and minute, the per-minute rollup of the
// spans, and --audit audit events in the exported tenant's chain. The registry is the demo's
// seven tenants plus generated ones up to --tenants.
//
// The service runs in this process (startServer; its store is the one chDB data directory
// this process may open) with the defaults of `serve` except that scheduled policy runs are
// off (streamed policies, redaction and quotas are on). The lifecycle functions are called on
// server.store, as the CLI and the API routes call them: exportTenant (not the API route, so
// no tar stream is in the timing), eraseTenant, restoreTenant, each with an audit recorder of
// its own as a CLI invocation has. The load comes from another process (as independent
// services would send): up to five demo tenants other than the exported one, each at --rate
// requests/s of --load-spans spans (OTLP/JSON, each request new), open loop, at phases of
// their own (test/support/fairness-load.ts). A request belongs to the phase in which it was
// sent; the two seconds after each phase belong to none, so a backlog does not spill over.
// The process's event-loop delay per phase is printed too, and the libuv thread pool size
// (UV_THREADPOOL_SIZE), which chDB's async calls and the write-ahead log's writes share.
import '../src/threadpool.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { quantile, streamPhase, uniqueTraceBody, type Stream } from '../test/support/fairness-load.js';
import type { AuditEventInput } from '../src/ingest/audit/types.js';
import type { Store } from '../src/store/types.js';

/** One answered (or failed) load request: sent at (epoch ms), latency (ms), HTTP status (0: no answer). */
type LoadRecord = [sentAt: number, latencyMs: number, status: number];

// ---- the load generator (a child process of this same script) ----

if (process.argv[2] === '--load-child') {
  await loadChild(process.argv[3]!, JSON.parse(process.argv[4]!) as Stream[]);
  process.exit(0);
}

/** Send every stream's requests until a "stop" line on stdin, then print every record as one JSON line. */
async function loadChild(otlpHttpUrl: string, streams: Stream[]): Promise<void> {
  const url = new URL('/v1/traces', otlpHttpUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const records: LoadRecord[] = [];
  const pending = new Set<Promise<void>>();
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  let stopping = false;
  createInterface({ input: process.stdin }).on('line', (l) => {
    if (l.trim() === 'stop') {
      stopping = true;
      stop();
    }
  });
  process.stdout.write('ready\n');
  const started = performance.now();
  await Promise.all(
    streams.map(async (s) => {
      const service = `svc-${s.token.replace(/^demo-ingest-/, '')}`;
      const offset = ((s.phase ?? streamPhase(s.token)) * 1000) / s.rate;
      // The next body is made right after a request leaves, off the clock of any request.
      let body = uniqueTraceBody(s.spansPerRequest, service);
      for (let i = 0; !stopping; i++) {
        const wait = started + offset + (i * 1000) / s.rate - performance.now();
        if (wait > 0) await Promise.race([new Promise((r) => setTimeout(r, wait)), stopped]);
        if (stopping) break;
        const p = send(url, agent, s.token, body).then((rec) => void records.push(rec));
        pending.add(p);
        void p.finally(() => pending.delete(p));
        body = uniqueTraceBody(s.spansPerRequest, service);
      }
    }),
  );
  await Promise.all([...pending]);
  agent.destroy();
  const cpu = process.cpuUsage();
  // Written to a pipe, stdout is asynchronous: exit only once the whole line is out (a long run's
  // records are hundreds of KiB, and exiting earlier cut the line short).
  await new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify({ records, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`, () => resolve()));
}

function send(url: URL, agent: Agent, token: string, body: string): Promise<LoadRecord> {
  const sentAt = Date.now();
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent, timeout: 60_000, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve([sentAt, performance.now() - t0, res.statusCode ?? 0]));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve([sentAt, performance.now() - t0, 0]));
    req.end(body);
  });
}

// ---- the benchmark ----

const { values: args } = parseArgs({
  options: {
    spans: { type: 'string', default: '1000000' }, // spans of the exported tenant (the others get as many in all)
    tenants: { type: 'string', default: '10' }, // tenants with data (the registry has at least the demo's seven)
    tenant: { type: 'string', default: 'globex-3pl' }, // the tenant exported, erased and restored
    days: { type: 'string', default: '3' },
    audit: { type: 'string', default: '1000' }, // audit events in the exported tenant's chain
    'load-seconds': { type: 'string', default: '10' }, // the baseline windows (before and after)
    'load-tenants': { type: 'string', default: '5' },
    rate: { type: 'string', default: '10' }, // requests/s of each load tenant
    'load-spans': { type: 'string', default: '100' }, // spans per load request
  },
});
const SPANS = Number(args.spans);
const TENANTS = Number(args.tenants);
const TENANT = args.tenant!;
const DAYS = Number(args.days);
const AUDIT_EVENTS = Number(args.audit);
const LOAD_SECONDS = Number(args['load-seconds']);
const GAP_MS = 2000;
const DEMO_TENANTS = ['acme-dist', 'hooli-wholesale', 'initech-retail', 'stark-logistics', 'umbrella-pharma', 'globex-3pl'];

// The service logs at info by default (and a warning per request over quota): quieter here, set before the service's modules load.
process.env.TENANTSCOPE_LOG_LEVEL ??= 'error';
const { startServer } = await import('../src/server.js');
const { exportTenant } = await import('../src/lifecycle/export.js');
const { eraseTenant } = await import('../src/lifecycle/erase.js');
const { restoreTenant } = await import('../src/lifecycle/restore.js');
const { TENANT_TABLES, fingerprint, ident, rowHash, storedColumns, tenantFingerprints } = await import('../src/lifecycle/tables.js');
const { loadEvidenceSigner } = await import('../src/reports/evidence-sign.js');
const { AuditIngest } = await import('../src/ingest/audit/ingest.js');
const { ChainWriter } = await import('../src/ingest/audit/chain.js');
const { insertChunk } = await import('../src/store/index.js');
const { fromRoot } = await import('../src/paths.js');
const { rollUpStoredSpans } = await import('../test/support/rollup.js');

/** The demo registry plus generated tenants (as bench/workload.ts makes them) up to `n`. */
function registryYaml(n: number): string {
  const doc = parseYaml(readFileSync(fromRoot('fixtures', 'tenants.yaml'), 'utf8')) as { tenants: Array<Record<string, unknown>> };
  const template = doc.tenants[0]!;
  for (let i = doc.tenants.length; i < n; i++) {
    const id = `tenant-${String(i).padStart(2, '0')}`;
    doc.tenants.push({ ...template, id, name: `Generated Tenant ${i}`, identifiers: [id, `GEN${i}CO`, `${id}.example.net`, `CUST-${70000 + i * 37}`] });
  }
  return stringifyYaml(doc);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => ms / 1000;
const int = (n: number) => Math.round(n).toLocaleString('en');
const mib = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;

function statusKb(field: string): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
}

/** One timed phase: its window (epoch ms), rows, CPU seconds of this process, peak RSS (kB). */
interface Phase {
  name: string;
  from: number;
  to: number;
  rows?: number;
  cpuSeconds: number;
  rssPeakKb: number;
  /** The event loop's delay (ms) in the phase: p99 and max (the service answers on this loop). */
  loopP99: number;
  loopMax: number;
  note?: string;
}

const phases: Phase[] = [];
let rssPeak = 0;
const rssSampler = setInterval(() => (rssPeak = Math.max(rssPeak, statusKb('VmRSS'))), 100);
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

/** Run `fn` as a phase; it returns the rows it handled (or nothing) and a note. */
async function phase(name: string, fn: () => Promise<{ rows?: number; note?: string } | void>): Promise<Phase> {
  rssPeak = statusKb('VmRSS');
  const cpu0 = process.cpuUsage();
  loopDelay.reset();
  const from = Date.now();
  const r = (await fn()) ?? {};
  const to = Date.now();
  const cpu = process.cpuUsage(cpu0);
  const p: Phase = { name, from, to, ...(r.rows !== undefined ? { rows: r.rows } : {}), ...(r.note ? { note: r.note } : {}), cpuSeconds: (cpu.user + cpu.system) / 1e6, rssPeakKb: Math.max(rssPeak, statusKb('VmRSS')), loopP99: loopDelay.percentile(99) / 1e6, loopMax: loopDelay.max / 1e6 };
  phases.push(p);
  console.log(`  ${name}: ${secs(to - from).toFixed(2)} s${r.rows !== undefined ? `, ${int(r.rows)} rows` : ''}${r.note ? ` (${r.note})` : ''}`);
  await sleep(GAP_MS);
  return p;
}

/** The load generator, started in its own process; resolves once it sends. */
async function startLoad(otlpHttpUrl: string, streams: Stream[]): Promise<{ child: ChildProcess; stop: () => Promise<{ records: LoadRecord[]; cpuSeconds: number }> }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--load-child', otlpHttpUrl, JSON.stringify(streams)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const result = new Promise<{ records: LoadRecord[]; cpuSeconds: number }>((resolve, reject) => {
    lines.on('line', (l) => (l === 'ready' ? ready() : resolve(JSON.parse(l) as { records: LoadRecord[]; cpuSeconds: number })));
    child.on('exit', (code) => code !== 0 && reject(new Error(`load generator exited ${code}`)));
  });
  await isReady;
  return {
    child,
    stop: async () => {
      child.stdin!.write('stop\n');
      return result;
    },
  };
}

async function count(store: Store, sql: string, params?: Record<string, string | number>): Promise<number> {
  return Number((await store.query<{ n: string }>(sql, params))[0]!.n);
}

async function main(): Promise<void> {
  const startLoad1 = loadavg()[0]!;
  const root = mkdtempSync(join(tmpdir(), 'tenantscope-bench-lifecycle-'));
  const dataDir = join(root, 'data');
  const configPath = join(root, `tenants-${TENANTS}.yaml`);
  writeFileSync(configPath, registryYaml(TENANTS));
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let load: Awaited<ReturnType<typeof startLoad>> | undefined;
  try {
    server = await startServer({ configPath, dataDir, host: '127.0.0.1', otlpHttpPort: 0, otlpGrpcPort: 0, apiPort: 0, policyIntervalMs: 0 });
    const store = server.store;
    const registry = server.registry;
    const withData = registry.tenants().slice(0, Math.max(TENANTS, 2)).map((t) => t.id);
    if (!withData.includes(TENANT)) throw new Error(`--tenant ${TENANT} is not among the ${withData.length} tenants with data (${withData.join(', ')})`);
    const others = withData.filter((t) => t !== TENANT);
    const loadTenants = DEMO_TENANTS.filter((t) => t !== TENANT).slice(0, Number(args['load-tenants']));
    const signer = loadEvidenceSigner({ dataDir });
    const newAudit = (node: string) => new AuditIngest(registry, new ChainWriter(store, node), (_t, rows) => insertChunk(store, rows).then(() => undefined));

    // ---- load the data ----
    const now = Date.now();
    const loadStart = performance.now();
    await store.exec(
      `INSERT INTO spans (tenant_id, service_name, start_time, end_time, duration_ns, trace_id, span_id, parent_span_id, name, kind, status_code, status_message,
                          resource_attributes, scope_name, scope_version, attributes, event_times, event_names, event_attributes, retention_days)
       WITH {others:Array(String)} AS others
       SELECT
         if(number < {n:UInt64}, {tenant:String}, others[1 + (number % length(others))]) AS tenant_id,
         ['order-api', 'inventory-svc', 'edi-gateway', 'warehouse-scanner', 'billing-svc'][1 + (intDiv(number, 2) % 5)] AS service_name,
         fromUnixTimestamp64Milli({now:Int64} - toInt64(rand(2) % {spanMs:UInt64})) AS start_time,
         start_time + toIntervalNanosecond(duration_ns) AS end_time,
         toUInt64(20000000 * exp(randNormal(0, 0.8))) AS duration_ns,
         lower(hex(cityHash64(intDiv(number, 2)))) || lower(hex(cityHash64(intDiv(number, 2), 7))) AS trace_id,
         lower(hex(cityHash64(number, 1))) AS span_id,
         if(number % 2 = 1, lower(hex(cityHash64(number - 1, 1))), '') AS parent_span_id,
         if(number % 2 = 0, 'POST /orders', 'SELECT inventory') AS name,
         if(number % 2 = 0, 2, 3) AS kind,
         if(rand(3) % 200 = 0, 2, 0) AS status_code,
         if(status_code = 2, 'timeout', '') AS status_message,
         map('service.name', service_name, 'service.version', '4.12.0', 'service.instance.id', concat(service_name, '-', toString(number % 3)),
             'deployment.environment', 'prod', 'host.name', concat('node-', toString(number % 7)), 'cloud.region', 'us-east-1') AS resource_attributes,
         'bench' AS scope_name, '1.0.0' AS scope_version,
         if(kind = 2,
            map('http.request.method', 'POST', 'http.route', '/orders', 'http.response.status_code', if(status_code = 2, '500', '201'),
                'url.path', concat('/orders/', toString(number)), 'client.address', concat('10.0.', toString(number % 250), '.', toString(intDiv(number, 250) % 250)),
                'order.channel', if(number % 3 = 0, 'edi', 'web'), 'warehouse.id', concat('WH-', toString(number % 12))),
            map('db.system', 'postgresql', 'db.statement', 'SELECT qty FROM inventory WHERE sku = $1', 'db.client.connection.pool.name', 'pg-shared', 'server.address', 'pg-1')) AS attributes,
         if(kind = 3, [start_time], []) AS event_times,
         if(kind = 3, ['pool.acquired'], []) AS event_names,
         if(kind = 3, [map('pool.wait_ms', toString(number % 9))], []) AS event_attributes,
         30 AS retention_days
       FROM numbers({total:UInt64})`,
      { n: SPANS, total: 2 * SPANS, tenant: TENANT, others, now, spanMs: DAYS * 86_400_000 },
    );
    const usageRows = DAYS * 1440 * withData.length;
    await store.exec(
      `INSERT INTO ingest_usage (tenant_id, time, signal, outcome, records, bytes, encoding, retention_days, kept_days)
       WITH {tenants:Array(String)} AS tenants
       SELECT tenants[1 + (number % length(tenants))], fromUnixTimestamp64Milli({now:Int64} - intDiv(number, length(tenants)) * 60000),
              'spans', 'accepted', 200, 200 * 600, 'protobuf', 365, 30
         FROM numbers({n:UInt64})`,
      { n: usageRows, now, tenants: withData },
    );
    await rollUpStoredSpans(store);
    const seed = newAudit('bench-seed');
    for (let i = 0; i < AUDIT_EVENTS; i += 100) {
      const events: AuditEventInput[] = Array.from({ length: Math.min(100, AUDIT_EVENTS - i) }, (_, k) => ({
        time: new Date(now - (AUDIT_EVENTS - i - k) * 1000).toISOString(),
        actor: { id: `u-${(i + k) % 50}`, type: 'user', tenant_id: TENANT },
        action: 'data.read',
        target: { type: 'dataset', id: `orders-${(i + k) % 20}`, tenant_id: TENANT },
        outcome: 'success',
        attributes: { rows: String(100 + ((i + k) % 900)) },
      }));
      await seed.record(TENANT, events, 'bench');
    }
    const loadSecs = secs(performance.now() - loadStart);
    const mergeStart = performance.now();
    while ((await count(store, 'SELECT count() AS n FROM system.merges')) > 0) await sleep(500);
    const mergeSecs = secs(performance.now() - mergeStart);
    const tenantRows: Record<string, number> = {};
    for (const t of TENANT_TABLES) tenantRows[t.table] = (await fingerprint(store, t, TENANT)).rows;
    const totalSpans = await count(store, 'SELECT count() AS n FROM spans');
    const parts = await count(store, "SELECT count() AS n FROM system.parts WHERE database = currentDatabase() AND table = 'spans' AND active");
    console.log(`data: ${int(totalSpans)} spans among ${withData.length} tenants over ${DAYS} days (${TENANT}: ${int(tenantRows.spans!)}; ${others.length} others: ${int(SPANS / others.length)} each), ${int(usageRows)} usage rows, ${int(AUDIT_EVENTS)} audit events of ${TENANT}`);
    console.log(`  loaded in ${loadSecs.toFixed(1)} s, background merges done ${mergeSecs.toFixed(1)} s later (${parts} active parts of spans); RSS ${mib(statusKb('VmRSS'))}`);
    console.log(`  ${TENANT}'s rows: ${Object.entries(tenantRows).filter(([, n]) => n > 0).map(([t, n]) => `${t} ${int(n)}`).join(', ')}`);

    // ---- the phases, under the load ----
    const streams: Stream[] = loadTenants.map((t) => ({ token: `demo-ingest-${t}`, rate: Number(args.rate), spansPerRequest: Number(args['load-spans']) }));
    console.log(`load: ${streams.length} tenants (${loadTenants.join(', ')}) x ${args.rate} req/s x ${args['load-spans']} spans, OTLP/JSON over HTTP from another process, open loop`);
    load = await startLoad(server.otlpHttpUrl, streams);
    await sleep(3000); // warm-up: the first requests of each stream are not measured
    const bundle = join(root, 'bundle');
    const raw = join(root, 'raw');
    const rawFile = join(root, 'raw-spans.parquet');

    await phase('baseline', async () => void (await sleep(LOAD_SECONDS * 1000)));
    let manifest!: Awaited<ReturnType<typeof exportTenant>>;
    const exp = await phase('export (exportTenant)', async () => {
      manifest = await exportTenant(store, { tenant: TENANT, period: {}, outDir: bundle, signer });
      return { rows: manifest.files.reduce((n, f) => n + f.rows, 0), note: `${mib(manifest.files.reduce((n, f) => n + f.bytes, 0) / 1024)} of Parquet` };
    });
    let erasure!: Awaited<ReturnType<typeof eraseTenant>>;
    await phase('erase (eraseTenant)', async () => {
      const audit = newAudit('bench-erase');
      erasure = await eraseTenant(store, {
        registry, tenant: TENANT, confirm: TENANT, operator: 'bench', signer, certificateDir: join(root, 'erasures'),
        platformAudit: (chain, e) => audit.recordPlatform(chain, [e], 'bench'),
      });
      const rows = erasure.certificate.tables.reduce((n, t) => n + t.rows_before, 0);
      return { rows, note: `others_unchanged ${erasure.certificate.others_unchanged}` };
    });
    let restore!: Awaited<ReturnType<typeof restoreTenant>>;
    const rest = await phase('restore (restoreTenant)', async () => {
      const audit = newAudit('bench-restore');
      restore = await restoreTenant(store, bundle, { registry, trustedKey: signer.publicKeyPem, actor: 'bench', audit: (t, e) => audit.record(t, [e], 'bench') });
      return { rows: restore.tables.reduce((n, t) => n + (t.rows_after - t.rows_before), 0), note: `outcome ${restore.outcome}, others_unchanged ${restore.others_unchanged}, audit chain ${restore.audit_chain}` };
    });
    let again!: Awaited<ReturnType<typeof restoreTenant>>;
    await phase('restore again (all rows present)', async () => {
      const audit = newAudit('bench-restore-2');
      again = await restoreTenant(store, bundle, { registry, trustedKey: signer.publicKeyPem, actor: 'bench', audit: (t, e) => audit.record(t, [e], 'bench') });
      return { rows: again.tables.reduce((n, t) => n + (t.rows_after - t.rows_before), 0), note: `outcome ${again.outcome}` };
    });

    // The engine alone, on the tenant's spans (the bulk of the rows).
    const spansTable = TENANT_TABLES.find((t) => t.table === 'spans')!;
    const columns = await storedColumns(store, 'spans');
    const names = columns.map((c) => ident(c.name)).join(', ');
    const structure = columns.map((c) => `${ident(c.name)} ${c.type}`).join(', ');
    const spansRows = manifest.files.find((f) => f.table === 'spans')!.rows;
    let rawBytes = 0;
    const rawExp = await phase('raw: SELECT spans FORMAT Parquet', async () => {
      rawBytes = await store.queryToFile(`SELECT ${names} FROM spans WHERE tenant_id = {tenant:String}`, { tenant: TENANT }, 'Parquet', rawFile);
      return { rows: spansRows, note: `${mib(rawBytes / 1024)}` };
    });
    const rawExpSorted = await phase('raw: same, ORDER BY start_time', async () => {
      await store.queryToFile(`SELECT ${names} FROM spans WHERE tenant_id = {tenant:String} ORDER BY start_time`, { tenant: TENANT }, 'Parquet', rawFile);
      return { rows: spansRows };
    });
    const fp = await phase('raw: fingerprint of the spans', async () => ({ rows: (await fingerprint(store, spansTable, TENANT)).rows }));
    const others9 = await phase(`raw: tenantFingerprints of the ${others.length} others`, async () => {
      await tenantFingerprints(store, others);
      return { note: 'every table' };
    });
    await store.exec('DROP TABLE IF EXISTS bench_spans_raw SYNC');
    await store.exec('CREATE TABLE bench_spans_raw AS spans');
    const rawIns = await phase('raw: INSERT spans FROM file(Parquet)', async () => {
      await store.insertFromFile((source) => `INSERT INTO bench_spans_raw (${names}) SELECT ${names} FROM ${source} SETTINGS insert_deduplicate = 0`, { path: rawFile, format: 'Parquet', structure });
      return { rows: await count(store, 'SELECT count() AS n FROM bench_spans_raw') };
    });
    await store.exec('TRUNCATE TABLE bench_spans_raw SYNC');
    const rawInsHash = await phase('raw: same, with the row-hash NOT IN', async () => {
      await store.insertFromFile(
        (source) =>
          `INSERT INTO bench_spans_raw (${names}) SELECT ${names} FROM ${source}
            WHERE tenant_id = {tenant:String} AND ${rowHash(columns)} NOT IN (SELECT ${rowHash(columns)} FROM bench_spans_raw WHERE tenant_id = {tenant:String})
           SETTINGS insert_deduplicate = 0`,
        { path: rawFile, format: 'Parquet', structure },
        { tenant: TENANT },
      );
      return { rows: await count(store, 'SELECT count() AS n FROM bench_spans_raw') };
    });
    await store.exec('DROP TABLE IF EXISTS bench_spans_raw SYNC');
    await phase('baseline, after', async () => void (await sleep(LOAD_SECONDS * 1000)));

    const { records, cpuSeconds: loadCpu } = await load.stop();
    load = undefined;

    // ---- the figures ----
    const base = stats(records, phases[0]!);
    const ms = (x: number) => (Number.isNaN(x) ? '-' : `${x.toFixed(1)} ms`);
    console.log('');
    console.log(`${'phase'.padEnd(40)} ${'seconds'.padStart(8)} ${'rows'.padStart(11)} ${'rows/s'.padStart(10)}   ${'load p50'.padStart(9)} ${'p99'.padStart(9)} ${'max'.padStart(9)}  ${'p99/base'.padStart(8)}  ${'reqs'.padStart(5)} ${'not 200'.padStart(7)}  ${'CPU'.padStart(10)}  ${'RSS peak'.padStart(9)}  ${'loop delay p99/max'.padStart(18)}`);
    for (const p of phases) {
      const s = stats(records, p);
      const seconds = secs(p.to - p.from);
      console.log(
        `${p.name.padEnd(40)} ${seconds.toFixed(2).padStart(8)} ${(p.rows !== undefined ? int(p.rows) : '').padStart(11)} ${(p.rows !== undefined && p.rows > 0 ? int(p.rows / seconds) : '').padStart(10)}   ` +
          `${ms(s.p50).padStart(9)} ${ms(s.p99).padStart(9)} ${ms(s.max).padStart(9)}  ${(Number.isNaN(s.p99) ? '-' : `${(s.p99 / base.p99).toFixed(2)}x`).padStart(8)}  ${String(s.n).padStart(5)} ${String(s.failed).padStart(7)}  ` +
          `${`${(p.cpuSeconds / seconds).toFixed(2)} cores`.padStart(10)}  ${mib(p.rssPeakKb).padStart(9)}  ${`${p.loopP99.toFixed(0)}/${p.loopMax.toFixed(0)} ms`.padStart(18)}`,
      );
    }
    const refused = phases.map((p) => [p.name, stats(records, p).statuses] as const).filter(([, st]) => st);
    if (refused.length > 0) console.log(`  load requests not answered 200: ${refused.map(([n, st]) => `${n}: ${st}`).join('; ')}`);
    console.log(`  (load latency: requests sent in the phase; p99/base against the baseline's p99; CPU and RSS of this process, which runs the service and chDB; the load generator used ${loadCpu.toFixed(1)} CPU s in all)`);
    const rate = (p: Phase) => (p.rows ?? 0) / secs(p.to - p.from);
    console.log('');
    console.log(`export ${int(rate(exp))} rows/s (aim 200,000): ${manifest.files.filter((f) => f.rows > 0).map((f) => `${f.table} ${int(f.rows)} rows ${mib(f.bytes / 1024)}`).join(', ')}; audit chain ${manifest.audit_chain.status}`);
    console.log(`  engine, spans only: SELECT ... FORMAT Parquet ${int(rate(rawExp))} rows/s, with ORDER BY start_time ${int(rate(rawExpSorted))} rows/s; fingerprint of the spans ${secs(fp.to - fp.from).toFixed(2)} s (${int(rate(fp))} rows/s)`);
    console.log(`erase: ${erasure.certificate.tables.filter((t) => t.rows_before > 0).map((t) => `${t.table} ${int(t.rows_before)}->${t.rows_after}`).join(', ')}; others_unchanged ${erasure.certificate.others_unchanged}`);
    console.log(`restore ${int(rate(rest))} rows/s (aim 150,000): ${restore.outcome}; ${restore.tables.filter((t) => t.bundle_rows > 0).map((t) => `${t.table} ${int(t.rows_before)}->${int(t.rows_after)}${t.matches ? '' : ' MISMATCH'}`).join(', ')}; others_unchanged ${restore.others_unchanged}; duration_seconds ${restore.duration_seconds.toFixed(2)}`);
    console.log(`  engine, spans only: INSERT ... SELECT FROM file(Parquet) ${int(rate(rawIns))} rows/s, with the row-hash NOT IN (nothing present) ${int(rate(rawInsHash))} rows/s; tenantFingerprints of the ${others.length} other tenants ${secs(others9.to - others9.from).toFixed(2)} s (restore and erase take an isolation snapshot of the others before and after, tables.ts)`);
    console.log(`restore again: ${again.outcome}, ${again.tables.reduce((n, t) => n + t.rows_after - t.rows_before, 0)} rows added, ${again.duration_seconds.toFixed(2)} s`);
    if (!restore.others_unchanged || !erasure.certificate.others_unchanged) {
      console.log(`  note: others_unchanged is false while the load writes to other tenants: their fingerprints are taken over all their rows, before and after`);
    }
    console.log(`peak RSS of the process (VmHWM, data load included): ${mib(statusKb('VmHWM'))}`);
    console.log(`libuv thread pool: ${process.env.UV_THREADPOOL_SIZE ?? '4 (UV_THREADPOOL_SIZE unset)'}; chDB's async calls and the write-ahead log's file writes share it`);
    console.log(`machine load average (1 min) at the start ${startLoad1.toFixed(2)}, at the end ${loadavg()[0]!.toFixed(2)} (${availableParallelism()} cores)`);
  } finally {
    clearInterval(rssSampler);
    loopDelay.disable();
    if (load) {
      load.child.kill();
    }
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  }
}

function stats(records: LoadRecord[], p: Phase): { n: number; failed: number; statuses: string; p50: number; p99: number; max: number } {
  const inPhase = records.filter((r) => r[0] >= p.from && r[0] < p.to);
  const ok = inPhase.filter((r) => r[2] === 200).map((r) => r[1]);
  const byStatus = new Map<number, number>();
  for (const r of inPhase) if (r[2] !== 200) byStatus.set(r[2], (byStatus.get(r[2]) ?? 0) + 1);
  const statuses = [...byStatus].map(([st, n]) => `${n} x ${st === 0 ? 'no answer' : st}`).join(', ');
  return { n: inPhase.length, failed: inPhase.length - ok.length, statuses, p50: quantile(ok, 0.5), p99: quantile(ok, 0.99), max: ok.length ? Math.max(...ok) : NaN };
}

await main();
process.exit(0);
