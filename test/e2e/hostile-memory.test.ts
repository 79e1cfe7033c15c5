// Memory stays bounded under hostile input: `tenantscope serve` runs as a child process with a
// 1 MiB body limit and a 4 MiB decompressed limit, and takes the same storm of ~300 hostile
// requests (each sent twice) two times, 8 at a time: bodies at the size limit (one huge value,
// thousands of spans, the most attributes, far too many attributes), bodies just over it, gzip
// bombs, nesting 30,000 to 100,000 levels deep, and fast-check mutations of valid OTLP and
// audit bodies (fixed seed). Every answer must be a 2xx or a 4xx with a Status (OTLP) or error
// (audit) body, with the status the input calls for where it does; the process must live; and
// its resident memory after the second storm must settle within a stated bound of where it
// settled after the first, the warm-up: a leak or an unbounded cache grows with every storm,
// while buffers, V8's heap and chDB's caches reach their size in the first. The RSS figures are
// printed; nothing is timed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { decodeExportResponse, decodeStatus } from '../../src/ingest/otlp/index.js';
import { serveCli, stopCli, type Serving } from '../support/cli.js';
import { DEMO_CONFIG, bearer } from '../support/server.js';
import { jsonNestedSpan, jsonTraces, protobufNestedSpan, protobufTraces } from '../support/otlp.js';
import { auditEvent } from '../support/audit.js';
import { SEED, mutated } from '../support/hostile.js';

const MiB = 1024 * 1024;
const BODY_LIMIT = 1 * MiB;
const INFLATED_LIMIT = 4 * MiB;
const PARALLEL = 8;
/** Each storm sends its requests this many times, so a per-request leak shows twice over. */
const ROUNDS = 2;
// From what this test prints on the 2-core development VM (policies on): across runs the RSS
// settled at 520-560 MiB after the warm-up and moved by -29 to +31 MiB after the storm, with
// peaks of 750-865 MiB on the way. Run in-process with forced GC, the same requests left V8's
// heap flat (23 MiB used after each storm), and refused requests alone left RSS flat; what
// drifts is chDB's memory as its tables grow (~8 MiB a round when each round stored 54,000
// spans instead of 18,000). With a leak injected to check the test, every inflated body kept,
// the storm settled 230 MiB higher. 150 MiB is five times the change seen without a leak and
// well below that one.
const SETTLE_BOUND = 150 * MiB;

let dataDir: string;
let server: Serving;

test.before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tenantscope-memory-'));
  server = await serveCli(
    ['--config', DEMO_CONFIG, '--data-dir', dataDir, '--host', '127.0.0.1', '--otlp-http-port', '0', '--api-port', '0', '--max-request-bytes', String(BODY_LIMIT), '--max-decompressed-bytes', String(INFLATED_LIMIT), '--policy-interval', '0'],
  );
});
test.after(async () => {
  if (server && server.child.exitCode === null) await stopCli(server);
  rmSync(dataDir, { recursive: true, force: true });
});

/** Resident and peak resident memory of a process, from /proc/<pid>/status. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

const PROTO = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
const acme = bearer('demo-ingest-acme-dist');

interface Req {
  kind: string;
  path: string;
  body: Buffer;
  headers: Record<string, string>;
  /** The status this request must get, when the input decides it. */
  expect?: number;
}

function otlp(kind: string, body: Buffer | string, type: string, expect?: number, extra: Record<string, string> = {}): Req {
  return { kind, path: '/v1/traces', body: Buffer.from(body), headers: { 'content-type': type, ...acme, ...extra }, expect };
}

/** A JSON span whose attributes are `n` entries of `valueBytes` bytes each. */
function jsonAttributes(service: string, n: number, valueBytes: number): string {
  const attributes = Array.from({ length: n }, (_, i) => ({ key: `attr.${i}`, value: { stringValue: String(i % 10).repeat(valueBytes) } }));
  return JSON.stringify({
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ spans: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'op', attributes }] }] }],
  });
}

function jsonBigValue(service: string, bytes: number): string {
  return jsonAttributes(service, 1, bytes);
}

function storm(): Req[] {
  const reqs: Req[] = [];
  const times = (n: number, make: (i: number) => Req) => {
    for (let i = 0; i < n; i++) reqs.push(make(i));
  };
  // At the size limit, stored (values cut to 64 Ki characters, attributes thinned to 128)
  const bigProto = protobufTraces({ resource: { 'service.name': 'at-limit' }, attributes: { filler: 'x'.repeat(BODY_LIMIT - 2048) } });
  const bigJson = jsonBigValue('at-limit', BODY_LIMIT - 2048);
  const manySpans = protobufTraces({ spans: 9000, resource: { 'service.name': 'many-spans' } });
  const maxAttrs = jsonAttributes('max-attributes', 128, Math.floor(BODY_LIMIT / 128) - 200);
  const tooManyAttrs = jsonAttributes('too-many-attributes', 18_000, 8);
  for (const b of [bigProto, bigJson, manySpans, maxAttrs, tooManyAttrs]) assert.ok(b.length <= BODY_LIMIT && b.length > BODY_LIMIT * 0.85, `an at-limit body is ${b.length} bytes`);
  times(20, () => otlp('at-limit value, protobuf', bigProto, PROTO, 200));
  times(20, () => otlp('at-limit value, JSON', bigJson, JSON_TYPE, 200));
  times(2, () => otlp('at-limit 9,000 spans', manySpans, PROTO, 200));
  times(10, () => otlp('128 attributes at the limit', maxAttrs, JSON_TYPE, 200));
  times(10, () => otlp('18,000 attributes', tooManyAttrs, JSON_TYPE, 200));
  // Over the limits, refused
  const overProto = protobufTraces({ attributes: { filler: 'x'.repeat(BODY_LIMIT + 1024) } });
  times(20, () => otlp('just over the body limit', overProto, PROTO, 413));
  const zeros = gzipSync(Buffer.alloc(64 * MiB));
  times(20, () => otlp('gzip bomb of zeros', zeros, PROTO, 413, { 'content-encoding': 'gzip' }));
  const jsonBomb = gzipSync(jsonBigValue('bomb', 16 * MiB));
  times(10, () => otlp('gzip bomb of valid JSON', jsonBomb, JSON_TYPE, 413, { 'content-encoding': 'gzip' }));
  const inflates = gzipSync(jsonBigValue('inflates', 3 * MiB));
  times(10, () => otlp('gzip within the inflated limit', inflates, JSON_TYPE, 200, { 'content-encoding': 'gzip' }));
  const deepProto = protobufNestedSpan('deep', 100_000);
  const deepJson = jsonNestedSpan('deep', 30_000);
  times(10, () => otlp('100,000-deep protobuf', deepProto, PROTO, 400));
  times(10, () => otlp('30,000-deep JSON', deepJson, JSON_TYPE, 400));
  // Mutations and noise: any 2xx or 4xx
  const validProto = protobufTraces({ spans: 20, resource: { 'service.name': 'order-api', 'tenant.id': 'acme-dist' }, attributes: { 'tenant.customer': 'CUST-10442' } });
  const validJson = jsonTraces({ spans: 10, resource: { 'service.name': 'order-api', 'tenant.id': 'acme-dist' } });
  for (const b of fc.sample(mutated(validProto), { seed: SEED, numRuns: 80 })) reqs.push(otlp('mutated protobuf', Buffer.from(b), PROTO));
  for (const b of fc.sample(mutated(validJson), { seed: SEED, numRuns: 40 })) reqs.push(otlp('mutated JSON', Buffer.from(b), JSON_TYPE));
  for (const b of fc.sample(fc.uint8Array({ minLength: 1, maxLength: 65_536 }), { seed: SEED, numRuns: 20 })) reqs.push(otlp('random bytes', Buffer.from(b), PROTO));
  const validAudit = Buffer.from(JSON.stringify([auditEvent(), auditEvent({ attributes: { approval: 'CHG-1' } })]));
  for (const b of fc.sample(mutated(validAudit), { seed: SEED, numRuns: 20 })) {
    reqs.push({ kind: 'mutated audit', path: '/v1/audit', body: Buffer.from(b), headers: { 'content-type': JSON_TYPE, ...acme } });
  }
  const auditBomb = gzipSync(Buffer.from(JSON.stringify(Array.from({ length: 20_000 }, () => auditEvent()))));
  times(5, () => ({ kind: 'audit gzip bomb', path: '/v1/audit', body: auditBomb, headers: { 'content-type': JSON_TYPE, 'content-encoding': 'gzip', ...acme }, expect: 413 }));
  // Interleave the kinds, deterministically, so big and small requests overlap.
  return fc.sample(fc.shuffledSubarray(reqs, { minLength: reqs.length, maxLength: reqs.length }), { seed: SEED, numRuns: 1 })[0]!;
}

/** Whether a reply is a 2xx, or a 4xx whose body says why in the route's error shape. */
function wellFormed(req: Req, status: number, type: string, body: Buffer): string | undefined {
  if (status >= 200 && status < 300) {
    if (req.path === '/v1/audit') return undefined;
    decodeExportResponse('traces', body, type.startsWith(JSON_TYPE) ? 'json' : 'protobuf');
    return undefined;
  }
  if (status < 400 || status >= 500) return `status ${status}`;
  if (req.path === '/v1/audit') {
    const j = JSON.parse(body.toString()) as { error?: { code?: string } };
    return j.error?.code?.startsWith('TS_ERR_') ? undefined : `no error code in ${body.toString().slice(0, 200)}`;
  }
  const st = decodeStatus(body, type.startsWith(JSON_TYPE) ? 'json' : 'protobuf');
  return /^TS_ERR_[A-Z_]+: /.test(st.message) ? undefined : `Status without a code: ${st.message.slice(0, 200)}`;
}

interface StormResult {
  peakRss: number;
  byKind: Map<string, Map<number, number>>;
  problems: string[];
}

/** The requests `rounds` times over, `PARALLEL` at a time, with the peak RSS on the way. */
async function runStorm(reqs: Req[], rounds: number): Promise<StormResult> {
  const pid = server.child.pid!;
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, memoryOf(pid).rss)), 50);
  const byKind = new Map<string, Map<number, number>>();
  const problems: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < reqs.length * rounds) {
      const req = reqs[next++ % reqs.length]!;
      const res = await fetch(`${server.otlpHttpUrl}${req.path}`, { method: 'POST', body: req.body, headers: req.headers });
      const body = Buffer.from(await res.arrayBuffer());
      const counts = byKind.get(req.kind) ?? new Map<number, number>();
      byKind.set(req.kind, counts.set(res.status, (counts.get(res.status) ?? 0) + 1));
      let problem: string | undefined;
      try {
        problem = wellFormed(req, res.status, res.headers.get('content-type') ?? '', body);
      } catch (e) {
        problem = `undecodable reply: ${(e as Error).message}`;
      }
      if (req.expect !== undefined && res.status !== req.expect) problem = `expected ${req.expect}, got ${res.status}: ${body.toString().slice(0, 200)}`;
      if (problem) problems.push(`${req.kind}: ${problem}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: PARALLEL }, worker));
  } finally {
    clearInterval(sampler);
  }
  return { peakRss, byKind, problems };
}

/**
 * RSS once the service is idle again. After a storm it falls for several seconds (V8 shrinks
 * its heap, chDB finishes merging the new parts), so: sampled every 250 ms until two seconds'
 * worth of samples lie within 8 MiB of each other, or for at most 12 seconds.
 */
async function settledRss(): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 48; i++) {
    samples.push(memoryOf(server.child.pid!).rss);
    const last = samples.slice(-8);
    if (last.length === 8 && Math.max(...last) - Math.min(...last) < 8 * MiB) break;
    await sleep(250);
  }
  return Math.min(...samples.slice(-8));
}

const mib = (n: number) => `${(n / MiB).toFixed(0)} MiB`;

test('a storm of hostile requests gets only 2xx and well-formed 4xx answers, and memory settles within 150 MiB of the warm-up', async () => {
  const reqs = storm();
  const start = memoryOf(server.child.pid!).rss;

  const warm = await runStorm(reqs, ROUNDS);
  const afterWarm = await settledRss();
  const hot = await runStorm(reqs, ROUNDS);
  const afterStorm = await settledRss();
  const { hwm } = memoryOf(server.child.pid!);

  const outcomes = [...hot.byKind].map(([kind, counts]) => `${kind} ${[...counts].map(([s, n]) => `${s}x${n}`).join(' ')}`);
  console.log(`${reqs.length} requests ${ROUNDS} times over per storm, ${PARALLEL} at a time (${mib(ROUNDS * reqs.reduce((a, r) => a + r.body.length, 0))} of bodies); answers of the second storm: ${outcomes.join('; ')}`);
  console.log(
    `RSS: at start ${mib(start)}; warm-up peak ${mib(warm.peakRss)}, settled ${mib(afterWarm)}; ` +
      `storm peak ${mib(hot.peakRss)}, settled ${mib(afterStorm)} (${afterStorm >= afterWarm ? '+' : ''}${mib(afterStorm - afterWarm)}); high-water mark ${mib(hwm)}`,
  );

  assert.equal([...warm.problems, ...hot.problems].slice(0, 10), [], 'every answer is a 2xx or a 4xx that says why');
  assert.is(server.child.exitCode, null, 'the service is still running');
  const health = await fetch(`${server.apiUrl}/healthz`);
  assert.is(health.status, 200);
  const accepted = [...hot.byKind.values()].reduce((a, c) => a + (c.get(200) ?? 0), 0);
  const refused = [...hot.byKind.values()].reduce((a, c) => a + [...c].filter(([s]) => s >= 400).reduce((x, [, n]) => x + n, 0), 0);
  assert.ok(accepted > 50 && refused > 50, `both outcomes in the storm (${accepted} accepted, ${refused} refused)`);
  assert.ok(afterStorm - afterWarm <= SETTLE_BOUND, `RSS settled at ${mib(afterStorm)} after the storm, ${mib(afterStorm - afterWarm)} above the ${mib(afterWarm)} after the warm-up (bound ${mib(SETTLE_BOUND)})`);
});

test.run();
