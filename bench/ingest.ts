// Ingest benchmark: several concurrent clients send OTLP/protobuf trace requests of 512 spans
// to a tenantscope server (its own process, embedded chDB) for a fixed time; prints spans/s,
// request latency percentiles and the server's peak RSS. Then it inserts the very same rows
// straight into chDB (no HTTP, no decoding) and prints that rate and the ratio: the gap is
// what the service costs over the storage engine's own limit.
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
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request, Agent } from 'node:http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { fiftyTenantRegistryYaml } from './workload.js';
import { fromRoot } from '../src/paths.js';
import { decodeOtlp } from '../src/ingest/otlp/index.js';
import { spanRows } from '../src/ingest/rows.js';
import type { SpanRecord, ResourceGroup } from '../src/ingest/otlp/types.js';
import { ChdbStore, migrate } from '../src/store/index.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    clients: { type: 'string', default: '8' },
    spans: { type: 'string', default: '512' },
    bodies: { type: 'string', default: '16' },
  },
});
const DURATION_S = Number(args.duration);
const CLIENTS = Number(args.clients);
const SPANS = Number(args.spans);
const BODIES = Number(args.bodies);

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

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
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

async function startServer(dataDir: string, config: string, setup: Setup): Promise<{ pid: number; url: string; stop: () => Promise<void> }> {
  const flags = ['--redaction', setup.redaction ? 'on' : 'off', '--policies', setup.policies ? fromRoot('policies') : 'off', '--policy-interval', '0', '--quotas', 'off'];
  const child = spawn(process.execPath, [fromRoot('dist', 'src', 'cli.js'), 'serve', '--config', config, '--data-dir', dataDir, '--host', '127.0.0.1', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--api-port', '0', ...flags], {
    env: { ...process.env, TENANTSCOPE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"otlpHttpUrl":"([^"]+)"/.exec(buf);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  return {
    pid: child.pid!,
    url,
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

function send(agent: Agent, url: URL, pooled: Buffer, token: string): Promise<number> {
  const body = unique(pooled);
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path: '/v1/traces', method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length, authorization: `Bearer ${token}` } },
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
  }
  let runNo = 0;
  async function runService(setup: Setup): Promise<Run> {
    const server = await startServer(join(dataDir, `server-${runNo++}`), config, setup);
    const url = new URL(server.url);
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    // Warm-up: JIT, first parts, connection pool.
    for (let i = 0; i < CLIENTS; i++) await send(agent, url, bodies[i % BODIES]!, `demo-ingest-${tenants[i % tenants.length]}`);
    const latencies: number[] = [];
    let spans = 0;
    let failures = 0;
    const deadline = performance.now() + DURATION_S * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        let n = c;
        while (performance.now() < deadline) {
          const body = bodies[n++ % BODIES]!;
          const t0 = performance.now();
          const status = await send(agent, url, body, `demo-ingest-${tenants[c % tenants.length]}`);
          latencies.push(performance.now() - t0);
          if (status === 200) spans += SPANS;
          else failures++;
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const rss = peakRssMb(server.pid);
    agent.destroy();
    await server.stop();
    latencies.sort((a, b) => a - b);
    return { rate: spans / elapsed, requests: latencies.length, failures, elapsed, latencies, rss };
  }

  function report(title: string, r: Run): void {
    console.log(`\n== ${title} ==`);
    console.log(`clients ${CLIENTS}, ${SPANS} spans/request, ${(avgBytes / 1024).toFixed(1)} KiB/request, ${r.elapsed.toFixed(1)} s, 50 tenants in the registry`);
    console.log(`requests        ${r.requests} (${r.failures} failed)`);
    console.log(`throughput      ${Math.round(r.rate).toLocaleString('en')} spans/s, ${((r.requests - r.failures) / r.elapsed).toFixed(1)} requests/s, ${((avgBytes * (r.requests - r.failures)) / r.elapsed / 1048576).toFixed(1)} MiB/s`);
    console.log(`latency         p50 ${percentile(r.latencies, 50).toFixed(1)} ms, p90 ${percentile(r.latencies, 90).toFixed(1)} ms, p99 ${percentile(r.latencies, 99).toFixed(1)} ms, max ${r.latencies[r.latencies.length - 1]!.toFixed(1)} ms`);
    console.log(`server peak RSS ${r.rss.toFixed(0)} MiB`);
  }

  // The configurations alternate so drift in the machine's load hits all alike; each is
  // reported from its better round.
  const SETUPS = { full: { redaction: true, policies: true }, noPolicies: { redaction: true, policies: false }, noRedaction: { redaction: false, policies: true } };
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

  // The physical limit: the same rows, already encoded, inserted straight into chDB in
  // batches of the size the server's writer forms.
  const rowsText: string[] = bodies.map((b, i) => {
    const decoded = decodeOtlp('traces', b, 'protobuf');
    return spanRows({ tenantId: tenants[i % tenants.length]!, retentionDays: 30, batchId: `bench-${i}` }, decoded.groups as ResourceGroup<SpanRecord>[]).text;
  });
  const store = await ChdbStore.open(join(dataDir, 'raw'));
  await migrate(store);
  const batchBodies = 8; // 8 requests' rows per insert, like a busy writer's batch
  let rawRows = 0;
  const rawDeadline = performance.now() + Math.min(DURATION_S, 10) * 1000;
  const rawStart = performance.now();
  let k = 0;
  while (performance.now() < rawDeadline) {
    const chunk = Array.from({ length: batchBodies }, () => rowsText[k++ % rowsText.length]!).join('');
    await store.insertJsonEachRow('spans', Buffer.from(chunk), batchBodies * SPANS);
    rawRows += batchBodies * SPANS;
  }
  const rawRate = rawRows / ((performance.now() - rawStart) / 1000);

  // The same batches read by ClickHouse from a file (as a write-ahead log segment would be):
  // chDB parses a file in parallel, which its in-memory insert path does not.
  const segment = join(dataDir, 'segment.jsonl');
  writeFileSync(segment, Array.from({ length: batchBodies }, (_, i) => rowsText[i % rowsText.length]!).join(''));
  let fileRows = 0;
  const fileDeadline = performance.now() + Math.min(DURATION_S, 10) * 1000;
  const fileStart = performance.now();
  while (performance.now() < fileDeadline) {
    await store.exec(`INSERT INTO spans FROM INFILE '${segment}' FORMAT JSONEachRow`);
    fileRows += batchBodies * SPANS;
  }
  const fileRate = fileRows / ((performance.now() - fileStart) / 1000);

  // ClickHouse's own INSERT ... SELECT of the same rows: no parsing at all.
  await store.exec('CREATE TABLE spans_copy AS spans');
  const copyStart = performance.now();
  await store.exec('INSERT INTO spans_copy SELECT * FROM spans');
  const copied = Number((await store.query<{ n: string }>('SELECT count() AS n FROM spans_copy'))[0]!.n);
  const copyRate = copied / ((performance.now() - copyStart) / 1000);
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });

  console.log('\n== same rows straight into chDB ==');
  console.log(`JSONEachRow insert   ${Math.round(rawRate).toLocaleString('en')} rows/s (batches of ${batchBodies * SPANS} rows)`);
  console.log(`INSERT FROM INFILE   ${Math.round(fileRate).toLocaleString('en')} rows/s (same batches from a file)`);
  console.log(`INSERT ... SELECT    ${Math.round(copyRate).toLocaleString('en')} rows/s (${copied.toLocaleString('en')} rows, no parsing)`);
  console.log(`service / raw insert ${(serviceRate / rawRate).toFixed(2)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
