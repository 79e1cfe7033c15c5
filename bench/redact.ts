// Redaction throughput on realistic trace batches (512 spans, ~12 attributes and 2 events each,
// built with the OTel SDK and decoded by our protobuf decoder, so objects are shared exactly as
// the pipeline sees them). Cases: the demo registry (7 tenants) and a 50-tenant registry (4
// identifiers each), clean data and data where ~1% of the strings leak something (another
// tenant's customer code or domain, an email, a JWT, a card number, a DB password, ...). One
// extra case enables ip_address, where every span's client address is redacted. Prints
// strings/s, spans/s and µs per span; nothing is asserted.
//
// Usage: node dist/bench/redact.js [--seconds 1.5]
import { parseArgs } from 'node:util';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { checkoutSpans, fiftyTenantRegistryYaml } from './workload.js';
import { loadRegistry, parseRegistry, type Registry, type TenantRecord } from '../src/config/index.js';
import { decodeOtlp, type ResourceGroup, type SpanRecord } from '../src/ingest/otlp/index.js';
import { RedactionTally, Redactor } from '../src/ingest/redact/index.js';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '1.5' } } });
const SECONDS = Number(args.seconds);
const SPANS = 512;
const LEAK_EVERY = 6; // one leaked value in every 6th span: ~1% of ~18 strings per span

const FIXTURE = new URL('../../fixtures/tenants.yaml', import.meta.url);

function fiftyTenantRegistry(): Registry {
  return parseRegistry(fiftyTenantRegistryYaml(), 'bench-50.yaml');
}

/** Leaked values naming `victim` or carrying a secret; cycled through by the leaky batches. */
function leaks(victim: { code: string; domain: string }): string[] {
  return [
    `order for ${victim.code} shipped`,
    `notify ops@${victim.domain}`,
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    'card 4111 1111 1111 1111 declined',
    'postgres://app:S3cr3t!@db:5432/orders',
    'Bearer 8f14e45fceea167a5a36dedd4bea2543',
    'AKIAIOSFODNN7EXAMPLE',
    'call +1 415 555 2671',
  ];
}

function buildBody(ownTenant: string, leaked: string[] | undefined): Uint8Array {
  let leakNo = 0;
  const spans = checkoutSpans({
    count: SPANS,
    tenantId: ownTenant,
    decorate: (attrs, key, n) => {
      if (leaked !== undefined && n % LEAK_EVERY === 0) attrs[key] = leaked[leakNo++ % leaked.length]!;
      return attrs;
    },
  });
  return ProtobufTraceSerializer.serializeRequest(spans)!;
}

function decode(body: Uint8Array): ResourceGroup<SpanRecord>[] {
  return decodeOtlp('traces', body, 'protobuf').groups;
}

function countStrings(groups: ResourceGroup<SpanRecord>[]): { spans: number; strings: number } {
  const seen = new Set<object>();
  let spans = 0;
  let strings = 0;
  const attrs = (a: Record<string, string>) => {
    if (seen.has(a)) return;
    seen.add(a);
    strings += Object.keys(a).length;
  };
  for (const g of groups) {
    attrs(g.resource.attributes);
    for (const s of g.items) {
      spans++;
      strings += 1 + (s.statusMessage ? 1 : 0);
      attrs(s.scope.attributes);
      attrs(s.attributes);
      for (const e of s.events) {
        strings++;
        attrs(e.attributes);
      }
      for (const l of s.links) attrs(l.attributes);
    }
  }
  return { spans, strings };
}

interface Result {
  spansPerS: number;
  stringsPerS: number;
  usPerSpan: number;
  redacted: number;
}

/**
 * Warm: one Redactor for all batches, as in the service (values already found clean are
 * remembered). Cold: a new Redactor per batch, so every distinct value is scanned once per
 * batch — the cost for traffic that never repeats across batches.
 */
function run(registry: Registry, tenant: TenantRecord, body: Uint8Array, cold: boolean): Result {
  let redactor = new Redactor(registry, KEY);
  const { spans, strings } = countStrings(decode(body));
  const COPIES = 24;
  let batches = 0;
  let ms = 0;
  let redacted = 0;
  // Warm-up, then timed rounds over freshly decoded copies (decoding is not timed).
  for (let w = 0; w < 8; w++) redactor.redactSpans(tenant, decode(body), new RedactionTally());
  while (ms < SECONDS * 1000) {
    const copies = Array.from({ length: COPIES }, () => decode(body));
    const tally = new RedactionTally();
    const t0 = performance.now();
    for (const groups of copies) {
      if (cold) redactor = new Redactor(registry, KEY);
      redactor.redactSpans(tenant, groups, tally);
    }
    ms += performance.now() - t0;
    batches += COPIES;
    redacted = tally.total() / COPIES;
  }
  const s = ms / 1000;
  return { spansPerS: (batches * spans) / s, stringsPerS: (batches * strings) / s, usPerSpan: (ms * 1000) / (batches * spans), redacted };
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(0)}k`;
}

const KEY = Buffer.alloc(32, 0x5a);
const demo = loadRegistry(FIXTURE);
const fifty = fiftyTenantRegistry();
const withIp = (t: TenantRecord): TenantRecord => ({ ...t, piiClasses: [...t.piiClasses, 'ip_address'] });

const cases: { name: string; registry: Registry; tenant: TenantRecord; leaked?: string[] }[] = [
  { name: 'demo (7 tenants), clean', registry: demo, tenant: demo.tenant('acme-dist')! },
  { name: 'demo (7 tenants), ~1% leaks', registry: demo, tenant: demo.tenant('acme-dist')!, leaked: leaks({ code: 'CUST-20517', domain: 'hooli-wholesale.example.com' }) },
  { name: '50 tenants, clean', registry: fifty, tenant: fifty.tenant('tenant-06')! },
  { name: '50 tenants, ~1% leaks', registry: fifty, tenant: fifty.tenant('tenant-06')!, leaked: leaks({ code: `CUST-${70000 + 17 * 37}`, domain: 'tenant-17.example.net' }) },
  { name: 'demo, clean, ip_address enabled', registry: demo, tenant: withIp(demo.tenant('acme-dist')!) },
];

const sample = countStrings(decode(buildBody('acme-dist', undefined)));
console.log(`redaction: ${SPANS}-span batches, ${(sample.strings / sample.spans).toFixed(1)} strings per span, ~${SECONDS}s per case (node ${process.version})`);
console.log(`${'case'.padEnd(42)} ${'strings/s'.padStart(10)} ${'spans/s'.padStart(10)} ${'µs/span'.padStart(8)} ${'redacted/batch'.padStart(15)}`);
for (const cold of [false, true]) {
  for (const c of cases) {
    const r = run(c.registry, c.tenant, buildBody(c.tenant.id, c.leaked), cold);
    const name = `${c.name}${cold ? ' [cold]' : ''}`;
    console.log(`${name.padEnd(42)} ${fmt(r.stringsPerS).padStart(10)} ${fmt(r.spansPerS).padStart(10)} ${r.usPerSpan.toFixed(2).padStart(8)} ${r.redacted.toFixed(0).padStart(15)}`);
  }
}
