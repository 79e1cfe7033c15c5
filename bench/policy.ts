// Policy benchmark: tenantscope's Rego engine on the policies in bench/policy/.
//  (a) a 20-rule isolation policy over one audit event (evaluations/s, latency percentiles);
//  (b) the same policy over a 10,000-event batch (events/s, batch time);
//  (c) a comprehension-heavy retention policy over 50 tenants.
// Prints figures; asserts nothing.
//
//   npm run bench:policy -- --seconds 3
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fromRoot } from '../src/paths.js';
import { RegoEngine, fromJS, type Value } from '../src/policy/rego/index.js';
import '../src/policy/rego/builtins/index.js';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '3' } } });
const SECONDS = Number(args.seconds);

// Deterministic pseudo-random numbers, so every run evaluates the same events.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const TENANTS = ['acme-dist', 'hooli-wholesale', 'initech-retail', 'stark-logistics', 'umbrella-pharma', 'globex-3pl'];
const ACTIONS = ['data.read', 'data.read', 'data.read', 'data.export', 'privilege.grant', 'config.change', 'support.access', 'key.rotate'];
const identifiers = Object.fromEntries(TENANTS.map((t, i) => [t, [t, `CUST-${10442 + i * 10000}`, `${t}.example.com`]]));

function makeEvent(r: () => number, i: number): Record<string, unknown> {
  const action = ACTIONS[Math.floor(r() * ACTIONS.length)]!;
  const foreign = r() < 0.03;
  return {
    id: `evt-${i}`,
    time: new Date(Date.UTC(2026, 10, 20, 8, 0, 0) + i * 1000).toISOString(),
    actor: { id: `u-${Math.floor(r() * 5000)}`, type: r() < 0.9 ? 'user' : r() < 0.5 ? 'service' : 'system', tenant_id: foreign ? 'globex-3pl' : 'acme-dist' },
    action,
    target: { type: r() < 0.5 ? 'dataset' : 'order', id: `obj-${Math.floor(r() * 100000)}`, tenant_id: r() < 0.02 ? 'hooli-wholesale' : 'acme-dist' },
    outcome: r() < 0.95 ? 'success' : r() < 0.5 ? 'failure' : 'denied',
    region: r() < 0.97 ? 'us-east-1' : 'eu-central-1',
    source_ip: `10.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`,
    ticket: action === 'support.access' && r() < 0.7 ? `SUP-${i}` : '',
    attributes: {
      rows: String(Math.floor(r() * 200000)),
      note: r() < 0.01 ? 'copied from CUST-20442 export' : 'routine',
      ...(action === 'data.export' && r() < 0.8 ? { approval: `CHG-${i}` } : {}),
    },
  };
}

function isolationInput(event: Record<string, unknown>): Value {
  return fromJS(plainInput(event));
}

function plainInput(event: Record<string, unknown>): Record<string, unknown> {
  return { tenant: 'acme-dist', event };
}

/** The registry as policies see it: base data, set once. */
const registry = {
  tenants: Object.fromEntries(TENANTS.map((t) => [t, { id: t, allowed_regions: t === 'umbrella-pharma' ? ['eu-central-1'] : ['us-east-1', 'us-west-2'] }])),
  identifiers,
  approvals: [{ ticket: 'SUP-7', tenant: 'acme-dist', expires_ns: 1_900_000_000_000_000_000n }],
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function timed(label: string, fn: () => unknown): void {
  const lat: number[] = [];
  const deadline = performance.now() + SECONDS * 1000;
  const start = performance.now();
  while (performance.now() < deadline) {
    const t0 = performance.now();
    fn();
    lat.push(performance.now() - t0);
  }
  const elapsed = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
  console.log(`${label.padEnd(46)} ${Math.round(lat.length / elapsed).toLocaleString('en').padStart(10)} evals/s   p50 ${us(percentile(lat, 50))}   p99 ${us(percentile(lat, 99))}`);
}

const engine = new RegoEngine();
for (const f of ['isolation.rego', 'retention.rego']) engine.addModule(f, readFileSync(fromRoot('bench', 'policy', f), 'utf8'));
engine.setData({ registry });
engine.compile();

const r = rng(42);
const events = Array.from({ length: 10_000 }, (_, i) => makeEvent(r, i));
const inputs = events.map(isolationInput);
const violations = engine.prepare('v := data.bench.isolation.violations');
const allow = engine.prepare('data.bench.isolation.allow');
const flagged = inputs.filter((input) => (violations.eval({ input })[0]?.v as { size: number }).size > 0).length;

console.log(`policy engine: node ${process.version}, ~${SECONDS}s per case; ${flagged} of ${events.length} events violate at least one rule\n`);

let k = 0;
timed('(a) isolation, 20 rules, one event: violations', () => violations.eval({ input: inputs[k++ % inputs.length] }));
timed('(a) isolation, one event: allow', () => allow.eval({ input: inputs[k++ % inputs.length] }));
// The same evaluation from the plain object an ingest path holds (conversion included), and
// on one event repeated (caches warm, no findings): the spread between them is memory, not rules.
timed('(a) violations, from a plain JS event', () => violations.eval({ input: plainInput(events[k++ % events.length]!) }));
const quiet = inputs.find((input) => (violations.eval({ input })[0]?.v as { size: number }).size === 0);
timed('(a) violations, one clean event repeated', () => violations.eval({ input: quiet }));

const batchTimes: number[] = [];
const batchDeadline = performance.now() + SECONDS * 1000;
do {
  const t0 = performance.now();
  for (const input of inputs) violations.eval({ input });
  batchTimes.push(performance.now() - t0);
} while (performance.now() < batchDeadline);
batchTimes.sort((a, b) => a - b);
const bestBatch = batchTimes[0]!;
console.log(
  `${'(b) isolation over a 10,000-event batch'.padEnd(46)} ${Math.round(10_000 / (bestBatch / 1000)).toLocaleString('en').padStart(10)} events/s  batch ${bestBatch.toFixed(0)} ms (best of ${batchTimes.length}), median ${percentile(batchTimes, 50).toFixed(0)} ms`,
);

const classes = ['spans', 'logs', 'metric_points', 'audit_events'];
const rr = rng(7);
const retentionInput = fromJS({
  tenants: Array.from({ length: 50 }, (_, i) => ({
    id: `t-${i}`,
    tier: ['shared', 'segmented', 'dedicated'][i % 3],
    legal_hold: i % 17 === 0,
    retention: Object.fromEntries(classes.map((c) => [c, Math.floor(rr() * 800) + 1])),
  })),
  tiers: Object.fromEntries(
    ['shared', 'segmented', 'dedicated'].map((t, i) => [t, { min: Object.fromEntries(classes.map((c) => [c, 30 * (i + 1)])), max: Object.fromEntries(classes.map((c) => [c, 400 * (i + 1)])) }]),
  ),
  oldest: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t-${i}`, Object.fromEntries(classes.map((c) => [c, Math.floor(rr() * 900)]))])),
});
const findings = engine.prepare('n := data.bench.retention.findings');
console.log(`\nretention: ${String(findings.eval({ input: retentionInput })[0]?.n)} findings over 50 tenants x 4 data classes`);
timed('(c) retention, comprehensions over 50 tenants', () => findings.eval({ input: retentionInput }));
