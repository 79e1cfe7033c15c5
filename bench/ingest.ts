// Ingest benchmark: several concurrent clients send OTLP/protobuf trace requests of 512 spans
// to a tenantscope server (its own process, embedded chDB) for a fixed time; prints spans/s,
// request latency percentiles and the server's idle and peak RSS (and peak anonymous memory).
// Then it inserts the very same rows straight into chDB (no HTTP, no decoding): as Native
// blocks from a file at the writer's block sizes, as JSONEachRow, and by INSERT ... SELECT,
// and prints those rates and the service's ratio to each: the gap is what the service costs
// over the storage engine's own limit.
//
//   npm run bench:ingest -- --duration 20 --clients 8 --spans 512
//
// Runs the service in three configurations, twice each, alternating (`--duration` seconds
// per run): everything on; streamed policies off; redaction off. The differences are what
// policies and redaction cost.
//
// Tenant quotas are off (`--quotas off`): this measures the pipeline, and `bench:fairness`
// measures the quotas. The clients reuse a pool of bodies, and the service stores a request
// it has seen from the same token only once (a client retry), so every request gets a
// field of its own appended, which decoders skip as unknown: each request is new bytes.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request, Agent } from 'node:http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { fiftyTenantRegistryYaml, logsRequest, metricsRequest } from './workload.js';
import type { Signal } from '../src/ingest/otlp/types.js';
import { fromRoot } from '../src/paths.js';
import { decodeOtlp } from '../src/ingest/otlp/index.js';
import { spanRows } from '../src/ingest/rows.js';
import type { SpanRecord, ResourceGroup } from '../src/ingest/otlp/types.js';
import { ChdbStore, migrate } from '../src/store/index.js';
import { encodeBlock } from '../src/store/native.js';
import { SPANS as SPANS_TABLE } from '../src/store/schemas.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    clients: { type: 'string', default: '8' },
    spans: { type: 'string', default: '512' },
    bodies: { type: 'string', default: '16' },
    // Node flags for the server process, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof' to profile it.
    'server-node-args': { type: 'string', default: '' },
    // Run one configuration once (full | noPolicies | noRedaction) and skip the rest, for profiling.
    only: { type: 'string' },
    // Extra flags for the server (e.g. '--batch-linger 50').
    'server-args': { type: 'string', default: '' },
  },
});
const DURATION_S = Number(args.duration);
const CLIENTS = Number(args.clients);
const SPANS = Number(args.spans);
const BODIES = Number(args.bodies);
/** Requests per block for the raw Native inserts: a busy writer's flush, and a larger one. */
const BLOCK_REQUESTS = [8, 32];
/** Logged blocks (one request each) per group insert for the raw comparison: about what the writer's group inserts carry at 40,000 spans/s. */
const GROUP_FILES = 20;
/** Attribute sets per metrics request (each gives a counter, a gauge and a histogram point). */
const METRIC_SERIES = 200;

const SERVICES = ['order-api', 'inventory-svc', 'edi-gateway', 'warehouse-scanner', 'billing-svc'];

// Realistic server/client spans: ~12 attributes, some events, errors now and then.
function makeBody(seed: number): Buffer {
  const exporter = new InMemorySpanExporter();
  const service = SERVICES[seed % SERVICES.length]!;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': service,
      'service.version': '4.12.0',
      'service.instance.id': `${service}-${seed % 3}`,
      'deployment.environment': 'prod',
      'host.name': `node-${seed % 7}`,
      'cloud.region': 'us-east-1',
    }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('bench', '1.0.0');
  for (let i = 0; i < SPANS / 2; i++) {
    const parent = tracer.startSpan('POST /orders', {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': 'POST',
        'http.route': '/orders',
        'http.response.status_code': i % 50 === 0 ? 500 : 201,
        'url.path': `/orders/${seed}-${i}`,
        'user_agent.original': 'dispatch-client/3.1 (linux)',
        'client.address': `10.0.${seed % 250}.${i % 250}`,
        'server.port': 8443,
        'order.lines': i % 17,
        'order.channel': i % 3 === 0 ? 'edi' : 'web',
        'warehouse.id': `WH-${i % 12}`,
        'messaging.destination.name': 'orders',
        'db.system': 'postgresql',
      },
    });
    const child = tracer.startSpan('SELECT inventory', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', 'db.statement': 'SELECT qty FROM inventory WHERE sku = $1', 'db.pool': 'pg-shared-1', 'net.peer.name': 'pg-1' } }, trace.setSpan(context.active(), parent));
    child.addEvent('pool.acquired', { 'pool.wait_ms': i % 9 });
    if (i % 50 === 0) child.setStatus({ code: SpanStatusCode.ERROR, message: 'timeout' });
    child.end();
    parent.end();
  }
  return Buffer.from(ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A field of /proc/<pid>/status in MiB (VmHWM: peak RSS; VmRSS; RssAnon: anonymous memory now). */
function statusMb(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Inserts per table so far and their rows, from the server's own metrics (warm-up included). */
async function insertCounts(apiUrl: string): Promise<Record<string, { count: number; rows: number }>> {
  const text = await (await fetch(`${apiUrl}/metrics`, { headers: { authorization: 'Bearer demo-admin' } })).text();
  const out: Record<string, { count: number; rows: number }> = {};
  for (const m of text.matchAll(/^tenantscope_writer_batch_rows_(count|sum)\{table="(\w+)"\} (\S+)/gm)) {
    const t = (out[m[2]!] ??= { count: 0, rows: 0 });
    if (m[1] === 'count') t.count = Number(m[3]);
    else t.rows = Number(m[3]);
  }
  return out;
}

/** CPU seconds the process has used (user + system), from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Samples RssAnon every 100 ms while a run goes on; the peak is what the heap and buffers took. */
function watchAnon(pid: number): () => number {
  let peak = statusMb(pid, 'RssAnon');
  const t = setInterval(() => {
    try {
      peak = Math.max(peak, statusMb(pid, 'RssAnon'));
    } catch {
      // the server is gone
    }
  }, 100);
  return () => {
    clearInterval(t);
    return peak;
  };
}

function fiftyTenantRegistry(dir: string): string {
  const file = join(dir, 'tenants-50.yaml');
  writeFileSync(file, fiftyTenantRegistryYaml());
  return file;
}

interface Setup {
  redaction: boolean;
  policies: boolean;
}

async function startServer(dataDir: string, config: string, setup: Setup): Promise<{ pid: number; url: string; apiUrl: string; stop: () => Promise<void> }> {
  const flags = ['--redaction', setup.redaction ? 'on' : 'off', '--policies', setup.policies ? fromRoot('policies') : 'off', '--policy-interval', '0', '--quotas', 'off', ...(args['server-args'] ? args['server-args'].split(' ') : [])];
  const nodeArgs = args['server-node-args'] ? args['server-node-args'].split(' ') : [];
  const child = spawn(process.execPath, [...nodeArgs, fromRoot('dist', 'src', 'cli.js'), 'serve', '--config', config, '--data-dir', dataDir, '--host', '127.0.0.1', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--api-port', '0', ...flags], {
    env: { ...process.env, TENANTSCOPE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const urls = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"otlpHttpUrl":"([^"]+)".*"apiUrl":"([^"]+)"/.exec(buf);
      if (m) resolve(`${m[1]!} ${m[2]!}`);
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const [url, apiUrl] = urls.split(' ') as [string, string];
  return {
    pid: child.pid!,
    url,
    apiUrl,
    stop: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit');
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

let sent = 0;

// Field 2047 of ExportTraceServiceRequest does not exist: a varint there is skipped on decode.
function unique(body: Buffer): Buffer {
  const tail: number[] = [0xf8, 0x7f]; // tag: field 2047, varint
  for (let v = ++sent; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      tail.push(v);
      break;
    }
    tail.push((v % 128) | 0x80);
  }
  return Buffer.concat([body, Buffer.from(tail)]);
}

function send(agent: Agent, url: URL, pooled: Buffer, token: string, signal: Signal = 'traces'): Promise<number> {
  const body = unique(pooled);
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path: `/v1/${signal}`, method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length, authorization: `Bearer ${token}` } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  console.log(`building ${BODIES} OTLP/protobuf requests of ${SPANS} spans ...`);
  const bodies = Array.from({ length: BODIES }, (_, i) => makeBody(i));
  const avgBytes = bodies.reduce((a, b) => a + b.length, 0) / bodies.length;
  const tenants = ['acme-dist', 'hooli-wholesale', 'initech-retail', 'stark-logistics', 'umbrella-pharma', 'globex-3pl'];

  const dataDir = mkdtempSync(join(tmpdir(), 'tenantscope-bench-'));
  const config = fiftyTenantRegistry(dataDir);

  interface Run {
    rate: number;
    requests: number;
    failures: number;
    elapsed: number;
    latencies: number[];
    rss: number;
    idleRss: number;
    anon: number;
    idleAnon: number;
    cores: number;
    inserts: Record<string, { count: number; rows: number }>;
  }
  let runNo = 0;
  /** One workload: the request bodies of a signal and the records each carries. */
  interface Load {
    signal: Signal;
    bodies: Buffer[];
    records: number;
  }
  const traces: Load = { signal: 'traces', bodies, records: SPANS };

  async function runService(setup: Setup, load: Load = traces): Promise<Run> {
    const bodies = load.bodies;
    const server = await startServer(join(dataDir, `server-${runNo++}`), config, setup);
    const url = new URL(server.url);
    // Idle: started, migrated, policies loaded, before any request.
    await new Promise((r) => setTimeout(r, 1000));
    const idleRss = statusMb(server.pid, 'VmRSS');
    const idleAnon = statusMb(server.pid, 'RssAnon');
    const anonPeak = watchAnon(server.pid);
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    // Warm-up: JIT, first parts, connection pool.
    for (let i = 0; i < CLIENTS; i++) await send(agent, url, bodies[i % bodies.length]!, `demo-ingest-${tenants[i % tenants.length]}`, load.signal);
    const latencies: number[] = [];
    let spans = 0;
    let failures = 0;
    const deadline = performance.now() + DURATION_S * 1000;
    const started = performance.now();
    const cpuBefore = cpuSeconds(server.pid);
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        let n = c;
        while (performance.now() < deadline) {
          const body = bodies[n++ % bodies.length]!;
          const t0 = performance.now();
          const status = await send(agent, url, body, `demo-ingest-${tenants[c % tenants.length]}`, load.signal);
          latencies.push(performance.now() - t0);
          if (status === 200) spans += load.records;
          else failures++;
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const cores = (cpuSeconds(server.pid) - cpuBefore) / elapsed;
    const inserts = await insertCounts(server.apiUrl);
    const rss = statusMb(server.pid, 'VmHWM');
    const anon = anonPeak();
    agent.destroy();
    await server.stop();
    latencies.sort((a, b) => a - b);
    return { rate: spans / elapsed, requests: latencies.length, failures, elapsed, latencies, rss, idleRss, anon, idleAnon, cores, inserts };
  }

  function report(title: string, r: Run, unit = 'spans', bytes = avgBytes, perRequest = SPANS): void {
    console.log(`\n== ${title} ==`);
    console.log(`clients ${CLIENTS}, ${perRequest} ${unit}/request, ${(bytes / 1024).toFixed(1)} KiB/request, ${r.elapsed.toFixed(1)} s, 50 tenants in the registry`);
    console.log(`requests        ${r.requests} (${r.failures} failed)`);
    console.log(`throughput      ${Math.round(r.rate).toLocaleString('en')} ${unit}/s, ${((r.requests - r.failures) / r.elapsed).toFixed(1)} requests/s, ${((bytes * (r.requests - r.failures)) / r.elapsed / 1048576).toFixed(1)} MiB/s`);
    console.log(`latency         p50 ${percentile(r.latencies, 50).toFixed(1)} ms, p90 ${percentile(r.latencies, 90).toFixed(1)} ms, p99 ${percentile(r.latencies, 99).toFixed(1)} ms, max ${r.latencies[r.latencies.length - 1]!.toFixed(1)} ms`);
    console.log(`server CPU      ${r.cores.toFixed(2)} cores`);
    const ins = Object.entries(r.inserts).filter(([, v]) => v.count > 0);
    console.log(`inserts         ${ins.map(([t, v]) => `${t} ${(v.count / r.elapsed).toFixed(1)}/s of ${Math.round(v.rows / v.count).toLocaleString('en')} rows`).join(', ')}`);
    console.log(`server RSS      idle ${r.idleRss.toFixed(0)} MiB, peak ${r.rss.toFixed(0)} MiB (+${(r.rss - r.idleRss).toFixed(0)}); anonymous idle ${r.idleAnon.toFixed(0)} MiB, peak ${r.anon.toFixed(0)} MiB`);
  }

  // The configurations alternate so drift in the machine's load hits all alike; each is
  // reported from its better round.
  const SETUPS = { full: { redaction: true, policies: true }, noPolicies: { redaction: true, policies: false }, noRedaction: { redaction: false, policies: true } };
  if (args.only) {
    const setup = SETUPS[args.only as keyof typeof SETUPS];
    if (!setup) throw new Error(`--only takes ${Object.keys(SETUPS).join(' | ')}`);
    report(`${args.only} (one run)`, await runService(setup));
    rmSync(dataDir, { recursive: true, force: true });
    return;
  }
  const rounds: Record<keyof typeof SETUPS, Run[]> = { full: [], noPolicies: [], noRedaction: [] };
  for (let round = 0; round < 2; round++) {
    for (const name of Object.keys(SETUPS) as (keyof typeof SETUPS)[]) rounds[name].push(await runService(SETUPS[name]));
  }
  const best = (runs: Run[]) => runs.reduce((a, b) => (b.rate > a.rate ? b : a));
  const full = best(rounds.full);
  const noPolicies = best(rounds.noPolicies);
  const noRedaction = best(rounds.noRedaction);
  report('tenantscope OTLP/HTTP ingest, redaction and streamed policies on (protobuf, embedded chDB)', full);
  report('streamed policies off (redaction on)', noPolicies);
  report('redaction off (policies on)', noRedaction);
  const rates = (runs: Run[]) => runs.map((r) => Math.round(r.rate).toLocaleString('en')).join(', ');
  console.log(`\nrounds (spans/s)  all on: ${rates(rounds.full)}; policies off: ${rates(rounds.noPolicies)}; redaction off: ${rates(rounds.noRedaction)}`);
  console.log(`policy cost       ${((1 - full.rate / noPolicies.rate) * 100).toFixed(1)}% of the ingest rate; p99 ${percentile(full.latencies, 99).toFixed(1)} ms vs ${percentile(noPolicies.latencies, 99).toFixed(1)} ms (best round each)`);
  console.log(`redaction cost    ${((1 - full.rate / noRedaction.rate) * 100).toFixed(1)}% of the ingest rate (best round each)`);
  const serviceRate = full.rate;

  // Logs and metric points, everything on, one run each.
  const logs: Load = { signal: 'logs', bodies: Array.from({ length: BODIES }, (_, i) => logsRequest(SPANS, i)), records: SPANS };
  const metricBodies = await Promise.all(Array.from({ length: BODIES }, (_, i) => metricsRequest(METRIC_SERIES, i)));
  const metricPoints = decodeOtlp('metrics', metricBodies[0]!, 'protobuf').groups.reduce((a, g) => a + g.items.length, 0);
  const logsRun = await runService(SETUPS.full, logs);
  const metricsRun = await runService(SETUPS.full, { signal: 'metrics', bodies: metricBodies, records: metricPoints });
  const mean = (xs: Buffer[]) => xs.reduce((a, b) => a + b.length, 0) / xs.length;
  report('logs, redaction and policies on (protobuf)', logsRun, 'log records', mean(logs.bodies), SPANS);
  report('metric points (sums, gauges, histograms), redaction and policies on (protobuf)', metricsRun, 'points', mean(metricBodies), metricPoints);

  // The physical limit: the same rows, already encoded as the service encodes them, inserted
  // straight into chDB: as Native blocks from a file (what the service does) at the block
  // sizes its writer forms, as JSONEachRow text (what it did before), and the engine's own
  // INSERT ... SELECT.
  const chunks = bodies.map((b, i) => {
    const decoded = decodeOtlp('traces', b, 'protobuf');
    return spanRows({ tenantId: tenants[i % tenants.length]!, retentionDays: 30, batchId: `bench-${i}`, receivedMs: Date.now() }, decoded.groups as ResourceGroup<SpanRecord>[]).chunk;
  });
  const store = await ChdbStore.open(join(dataDir, 'raw'));
  await migrate(store);
  const limitSeconds = Math.min(DURATION_S, 10);
  async function timed(rowsPerInsert: number, insert: () => Promise<void>): Promise<number> {
    let rows = 0;
    const deadline = performance.now() + limitSeconds * 1000;
    const start = performance.now();
    while (performance.now() < deadline) {
      await insert();
      rows += rowsPerInsert;
    }
    return rows / ((performance.now() - start) / 1000);
  }
  const native: { requests: number; rate: number }[] = [];
  for (const requests of BLOCK_REQUESTS) {
    const path = join(dataDir, `block-${requests}.native`);
    writeFileSync(path, encodeBlock(SPANS_TABLE, Array.from({ length: requests }, (_, i) => chunks[i % chunks.length]!)));
    native.push({ requests, rate: await timed(requests * SPANS, async () => void (await store.insertNative('spans', { path }, requests * SPANS, { dedupToken: randomUUID() }))) });
  }
  // The service's group insert: many small logged blocks, each in its file, in one INFILE.
  const groupFiles = Array.from({ length: GROUP_FILES }, (_, i) => {
    const path = join(dataDir, `member-${i}.native`);
    writeFileSync(path, encodeBlock(SPANS_TABLE, [chunks[i % chunks.length]!]));
    return path;
  });
  const groupRate = await timed(GROUP_FILES * SPANS, async () => void (await store.insertNative('spans', { paths: groupFiles }, GROUP_FILES * SPANS, { dedupToken: randomUUID() })));
  // Every insert carries a token of its own, as the service's do: a repeated block without one
  // is recognised as a duplicate by the tables' deduplication window and not written at all.
  // JSONEachRow text of the same rows, written by the engine from the Native block.
  const jsonBatch = 8;
  const jsonText = Buffer.from(
    (await store.query<Record<string, unknown>>(`SELECT * FROM file({p:String}, 'Native')`, { p: join(dataDir, `block-${jsonBatch}.native`) })).map((r) => JSON.stringify(r)).join('\n') + '\n',
  );
  const jsonRate = await timed(jsonBatch * SPANS, async () => void (await store.insertJsonEachRow('spans', jsonText, jsonBatch * SPANS, { dedupToken: randomUUID() })));

  // ClickHouse's own INSERT ... SELECT of the same rows: no parsing at all.
  await store.exec('CREATE TABLE spans_copy AS spans');
  const copyStart = performance.now();
  await store.exec('INSERT INTO spans_copy SELECT * FROM spans');
  const copied = Number((await store.query<{ n: string }>('SELECT count() AS n FROM spans_copy'))[0]!.n);
  const copyRate = copied / ((performance.now() - copyStart) / 1000);
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });

  console.log('\n== same rows straight into chDB ==');
  for (const n of native) console.log(`Native from a file     ${Math.round(n.rate).toLocaleString('en').padStart(9)} rows/s (blocks of ${(n.requests * SPANS).toLocaleString('en')} rows)   service / this ${(serviceRate / n.rate).toFixed(2)}`);
  console.log(`Native, ${GROUP_FILES} files, one INFILE ${Math.round(groupRate).toLocaleString('en').padStart(6)} rows/s (${(GROUP_FILES * SPANS).toLocaleString('en')} rows, the writer's group insert)   service / this ${(serviceRate / groupRate).toFixed(2)}`);
  console.log(`JSONEachRow insert     ${Math.round(jsonRate).toLocaleString('en').padStart(9)} rows/s (batches of ${(jsonBatch * SPANS).toLocaleString('en')} rows)   service / this ${(serviceRate / jsonRate).toFixed(2)}`);
  console.log(`INSERT ... SELECT      ${Math.round(copyRate).toLocaleString('en').padStart(9)} rows/s (${copied.toLocaleString('en')} rows, no parsing)   service / this ${(serviceRate / copyRate).toFixed(2)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
