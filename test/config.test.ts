// The tenant registry: what the demo file resolves to, who each token reaches, and how every
// kind of mistake in a registry file is reported (file, path, line:column, expectation).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CONTROLS,
  DATA_CLASSES,
  PII_CLASSES,
  TIER_NAMES,
  TOKEN_KINDS,
  loadRegistry,
  parseRegistry,
  type Principal,
  type Registry,
  type RegistryProblem,
} from '../src/config/index.js';
import { isTenantscopeError } from '../src/errors.js';
import { DEFAULT_DECODE_LIMITS } from '../src/ingest/otlp/index.js';

// Compiled to dist/test/, so the repo root is two levels up.
const DEMO_URL = new URL('../../fixtures/tenants.yaml', import.meta.url);
const INVALID_URL = new URL('../../fixtures/invalid-tenants.yaml', import.meta.url);
const SCHEMA_URL = new URL('../../src/config/registry.schema.json', import.meta.url);

const TENANT_IDS = ['acme-dist', 'hooli-wholesale', 'initech-retail', 'stark-logistics', 'umbrella-pharma', 'globex-3pl', 'nakatomi-trading'];

const demo: Registry = loadRegistry(DEMO_URL);

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function principal(token: string): Principal {
  const p = demo.authenticate(token);
  assert.ok(p, `${token} should authenticate`);
  return p;
}

/** The problems of a registry that must fail to load. */
function problemsOf(load: () => unknown): RegistryProblem[] {
  try {
    load();
  } catch (e) {
    if (isTenantscopeError(e) && e.code === 'TS_ERR_CONFIG') return e.context.problems as RegistryProblem[];
    throw e;
  }
  assert.unreachable('expected the registry to be rejected with TS_ERR_CONFIG');
  return [];
}

/** 1-based line of the only line of `text` containing `needle`. */
function lineOf(text: string, needle: string): number {
  const lines = text.split('\n');
  const hits = lines.flatMap((l, i) => (l.includes(needle) ? [i + 1] : []));
  assert.is(hits.length, 1, `"${needle}" should occur on exactly one line`);
  return hits[0]!;
}

// A small valid registry; tiers share one anchored block so the tests stay readable.
const TIERS = `version: 1
tiers:
  shared: &tier
    slo: { availability: 0.995, latency_threshold_ms: 500, latency_target: 0.95, window_days: 28, min_events: 100 }
    retention_min_days: { spans: 7, logs: 30, metric_points: 30, audit_events: 365 }
    retention_max_days: { spans: 90, logs: 180, metric_points: 400, audit_events: 2555 }
    controls: [ingest_quota]
    quotas: { events_per_second: 5000, bytes_per_second: 10485760 }
    recovery: { rpo_minutes: 60, rto_minutes: 240, restore_test_days: 90, backup_retention_days: 30, components: [database], dr_region_required: false }
    sla: { availability: 0.995, credits: [{ below: 0.995, percent: 10 }] }
  segmented: *tier
  dedicated: *tier
`;

function tenantYaml(id: string, extra = '', identifiers = `[${id}.example.com]`): string {
  return `  - id: ${id}
    name: ${id} Inc.
    tier: shared
    region: us-east-1
    allowed_regions: [us-east-1]
    identifiers: ${identifiers}
${extra}`;
}

function registryYaml(tenants: string, tokens = 'tokens: []\n'): string {
  return `${TIERS}tenants:\n${tenants}${tokens}`;
}

// ---------------------------------------------------------------------------------------------
// The demo registry

test('the demo registry holds the seven platform tenants with their tiers', () => {
  assert.equal(
    demo.tenants().map((t) => t.id),
    TENANT_IDS,
  );
  assert.equal(
    Object.fromEntries(demo.tenants().map((t) => [t.id, t.tier])),
    {
      'acme-dist': 'shared',
      'hooli-wholesale': 'shared',
      'initech-retail': 'shared',
      'stark-logistics': 'segmented',
      'umbrella-pharma': 'segmented',
      'globex-3pl': 'dedicated',
      'nakatomi-trading': 'shared',
    },
  );
  for (const t of demo.tenants()) {
    assert.ok(t.name.length > 3, `${t.id} has a display name`);
    assert.ok(t.allowedRegions.includes(t.region), `${t.id} lives in an allowed region`);
  }
});

test('umbrella-pharma keeps its data in the EU and requires the eu_residency control', () => {
  const t = demo.tenant('umbrella-pharma')!;
  assert.is(t.region, 'eu-central-1');
  assert.ok(t.allowedRegions.length > 0);
  for (const r of t.allowedRegions) assert.ok(r.startsWith('eu-'), `${r} is an EU region`);
  assert.ok(t.controls.includes('eu_residency'));
  // Tier controls come first and are kept alongside the tenant's own.
  assert.equal(t.controls.slice(0, demo.tiers.segmented.controls.length), demo.tiers.segmented.controls);
});

test('segmented and dedicated tenants carry an encryption key, and one tenant is under legal hold', () => {
  for (const t of demo.tenants()) {
    if (t.tier !== 'shared') assert.ok(t.encryptionKeyId, `${t.id} has an encryption key id`);
  }
  assert.equal(
    demo.tenants().filter((t) => t.legalHold).map((t) => t.id),
    ['umbrella-pharma'],
  );
});

test('unset retention classes fall back to the tier minimum', () => {
  const shared = demo.tiers.shared.retentionMinDays;
  const hooli = demo.tenant('hooli-wholesale')!;
  assert.equal(hooli.retentionDays, { spans: 14, logs: 60, metric_points: shared.metric_points, audit_events: shared.audit_events });
  assert.equal(hooli.retentionConfigured, { spans: 14, logs: 60 });
  const initech = demo.tenant('initech-retail')!;
  assert.equal(initech.retentionDays, shared);
  assert.equal(initech.retentionConfigured, {});
  assert.equal(demo.tenant('acme-dist')!.retentionDays, { spans: 30, logs: 30, metric_points: 90, audit_events: 400 });
});

test('tenant SLO and quota overrides replace only the fields they name', () => {
  const acme = demo.tenant('acme-dist')!;
  assert.equal(acme.slo, { ...demo.tiers.shared.slo, availability: 0.999 });
  const umbrella = demo.tenant('umbrella-pharma')!;
  assert.equal(umbrella.slo, { ...demo.tiers.segmented.slo, availability: 0.9995, latencyThresholdMs: 400 });
  const initech = demo.tenant('initech-retail')!;
  assert.equal(initech.quotas, { ...demo.tiers.shared.quotas, eventsPerSecond: 2000 });
  assert.equal(demo.tenant('hooli-wholesale')!.quotas, demo.tiers.shared.quotas);
});

test('identifiers always include the tenant id and resolve back to their tenant case-insensitively', () => {
  for (const id of TENANT_IDS) {
    const idents = demo.identifiersOf(id);
    assert.is(idents[0], id);
    assert.ok(idents.some((s) => /^CUST-\d{5}$/.test(s)), `${id} has a customer code`);
    for (const s of idents) {
      assert.is(demo.ownerOfIdentifier(s), id);
      assert.is(demo.ownerOfIdentifier(s.toLowerCase()), id);
      assert.is(demo.ownerOfIdentifier(s.toUpperCase()), id);
    }
  }
  assert.is(demo.ownerOfIdentifier('acme'), 'acme-dist');
  assert.is(demo.ownerOfIdentifier('nobody.example.com'), undefined);
  assert.equal(demo.identifiersOf('no-such-tenant'), []);
});

test('settings come from the file, and default when the file leaves them out', () => {
  assert.is(demo.settings.maxRequestBytes, 67108864);
  const bare = parseRegistry(registryYaml(tenantYaml('solo-co')), 'bare.yaml');
  assert.is(bare.settings.maxRequestBytes, 64 * 1024 * 1024);
  assert.is(bare.file, 'bare.yaml');
});

test('input limits default to 64 levels, 128 attributes and 64 Ki characters, and the decompressed limit follows the body limit', () => {
  const bare = parseRegistry(registryYaml(tenantYaml('solo-co')), 'bare.yaml');
  assert.equal(bare.settings.limits, { maxDecompressedBytes: 64 * 1024 * 1024, maxDepth: 64, maxAttributes: 128, maxStringLength: 65536 });
  // the decoders' own defaults, for callers without a registry, are the same
  const { maxDecompressedBytes: _, ...decode } = bare.settings.limits;
  assert.equal(decode, { ...DEFAULT_DECODE_LIMITS });
  const small = parseRegistry(`${registryYaml(tenantYaml('solo-co'))}settings:\n  max_request_bytes: 1048576\n`, 'small.yaml');
  assert.is(small.settings.limits.maxDecompressedBytes, 1048576);
});

test('input limits come from settings.limits, where max_request_bytes may be written too', () => {
  const text = `${registryYaml(tenantYaml('solo-co'))}settings:
  limits:
    max_request_bytes: 2048
    max_decompressed_bytes: 8192
    max_depth: 5
    max_attributes: 7
    max_string_length: 300
`;
  const r = parseRegistry(text, 'limits.yaml');
  assert.is(r.settings.maxRequestBytes, 2048);
  assert.equal(r.settings.limits, { maxDecompressedBytes: 8192, maxDepth: 5, maxAttributes: 7, maxStringLength: 300 });
});

test('a body limit set twice, a decompressed limit below the body limit and out-of-range limits are refused with their paths', () => {
  const text = `${registryYaml(tenantYaml('solo-co'))}settings:
  max_request_bytes: 4096
  limits:
    max_request_bytes: 4096
    max_decompressed_bytes: 2048
    max_depth: 1
    max_attributes: 0
    max_string_length: 8
    max_nesting: 3
`;
  const problems = problemsOf(() => parseRegistry(text, 'limits.yaml'));
  const by = (path: string) => problems.filter((p) => p.path === path).map((p) => p.message).join(' | ');
  assert.match(by('settings.limits.max_request_bytes'), /in one place only/);
  assert.match(by('settings.limits.max_decompressed_bytes'), /2048 is below the request body limit 4096/);
  assert.match(by('settings.limits.max_depth'), />= 2/);
  assert.match(by('settings.limits.max_attributes'), />= 1/);
  assert.match(by('settings.limits.max_string_length'), />= 16/);
  assert.match(by('settings.limits.max_nesting'), /unknown key "max_nesting"/);
  assert.is(problems.find((p) => p.path === 'settings.limits.max_depth')!.line, lineOf(text, 'max_depth: 1'));
});

test('the resolved registry is frozen so no stage can change another tenant’s policy', () => {
  const t = demo.tenant('acme-dist')!;
  assert.ok(Object.isFrozen(t));
  assert.ok(Object.isFrozen(t.retentionDays));
  assert.ok(Object.isFrozen(t.identifiers));
  assert.ok(Object.isFrozen(demo.tiers.shared.slo));
  assert.throws(() => {
    (t.retentionDays as Record<string, number>).spans = 1;
  }, TypeError);
});

// ---------------------------------------------------------------------------------------------
// Tokens and access

test('a plaintext token never appears in the registry file', () => {
  const text = readFileSync(DEMO_URL, 'utf8');
  const plaintexts = [
    ...TENANT_IDS.flatMap((id) => [`demo-ingest-${id}`, `demo-read-${id}`]),
    'demo-ingest-shared-collector',
    'demo-auditor',
    'demo-admin',
  ];
  // Only in the header comment, which names the pattern rather than a token.
  const body = text.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
  for (const p of plaintexts) {
    assert.not.ok(body.includes(p), `${p} must not be stored in plaintext`);
    assert.ok(text.includes(sha256(p)), `the hash of ${p} is stored`);
  }
  for (const tok of demo.tokens()) assert.match(tok.sha256, /^[0-9a-f]{64}$/);
});

test('a demo token authenticates to its own tenant only', () => {
  for (const id of TENANT_IDS) {
    const ingest = principal(`demo-ingest-${id}`);
    assert.is(ingest.kind, 'ingest');
    assert.equal(ingest.tenants, new Set([id]));
    const read = principal(`demo-read-${id}`);
    assert.is(read.kind, 'read');
    for (const other of TENANT_IDS) {
      assert.is(demo.canIngest(ingest, other), other === id, `ingest token of ${id} writing ${other}`);
      assert.is(demo.canRead(read, other), other === id, `read token of ${id} reading ${other}`);
      // Each kind does its own job only.
      assert.not.ok(demo.canRead(ingest, other));
      assert.not.ok(demo.canIngest(read, other));
    }
  }
});

test('an auditor token reads only its listed tenants', () => {
  const auditor = principal('demo-auditor');
  assert.is(auditor.kind, 'auditor');
  for (const id of TENANT_IDS) {
    assert.is(demo.canRead(auditor, id), id === 'acme-dist' || id === 'umbrella-pharma', id);
    assert.not.ok(demo.canIngest(auditor, id));
  }
});

test('the admin token reads every tenant but writes for none', () => {
  const admin = principal('demo-admin');
  assert.is(admin.kind, 'admin');
  assert.is(admin.tenants, 'all');
  assert.is(admin.name, 'platform admin');
  for (const id of TENANT_IDS) {
    assert.ok(demo.canRead(admin, id));
    assert.not.ok(demo.canIngest(admin, id));
  }
});

test('the shared collector token ingests for the three shared-tier tenants only', () => {
  const collector = principal('demo-ingest-shared-collector');
  for (const t of demo.tenants()) assert.is(demo.canIngest(collector, t.id), t.tier === 'shared', t.id);
});

test('access checks refuse tenants that are not in the registry', () => {
  assert.not.ok(demo.canRead(principal('demo-admin'), 'no-such-tenant'));
  assert.not.ok(demo.canIngest(principal('demo-ingest-acme-dist'), 'no-such-tenant'));
  assert.is(demo.tenant('no-such-tenant'), undefined);
});

test('an unknown, empty, near-miss or oversized token does not authenticate', () => {
  assert.is(demo.authenticate('demo-ingest-nobody'), undefined);
  assert.is(demo.authenticate(''), undefined);
  assert.is(demo.authenticate('demo-admin '), undefined);
  assert.is(demo.authenticate('DEMO-ADMIN'), undefined);
  // The stored hash itself is not a token.
  assert.is(demo.authenticate(sha256('demo-admin')), undefined);
  assert.is(demo.authenticate('x'.repeat(100_000)), undefined);
});

// ---------------------------------------------------------------------------------------------
// Rejected registries

test('an invalid registry names the file, the path and the line of every mistake', () => {
  const file = fileURLToPath(INVALID_URL);
  const text = readFileSync(INVALID_URL, 'utf8');
  const problems = problemsOf(() => loadRegistry(INVALID_URL));
  const expected: Array<[path: string, lineText: string, says: RegExp]> = [
    ['tiers.segmented.retention_max_days.logs', 'logs: 60', /below the tier minimum.*90/],
    ['tenants[0].retension', 'retension:', /unknown key "retension" \(did you mean "retention"\?\)/],
    ['tenants[1].tier', 'tier: premium', /allowed values: shared, segmented, dedicated; got string "premium"/],
    ['tenants[1].retention.spans', 'spans: 0', /must be >= 1; got 0/],
    ['tenants[1].retention.logs', 'logs: thirty', /must be integer; got string "thirty"/],
    ['tenants[1].legal_hold', 'legal_hold: yes', /must be boolean/],
    ['tenants[2].region', 'region: eu-west-3', /not one of allowed_regions: eu-central-1/],
    ['tenants[2].identifiers[1]', '[UMBRELLA-PH, acme]', /"acme" already names tenant "acme-dist"/],
    ['tenants[3]', 'id: Bad_Tenant', /required property 'name'/],
    ['tenants[3].id', 'id: Bad_Tenant', /must match pattern .*got string "Bad_Tenant"/],
    ['tenants[4].id', 'second tenant with the id', /duplicate tenant id "acme-dist".*line 35/],
    ['tokens[0].sha256', 'uppercase hex', /64 lowercase hex/],
    ['tokens[1].tenants', 'read tokens name one tenant', /exactly one tenant; got 2/],
    ['tokens[2].tenants', 'admin takes no tenants list', /admin token .* no tenants list/],
    ['tokens[3].tenants[0]', 'hooli-wholesail', /unknown tenant "hooli-wholesail" \(did you mean "hooli-wholesale"\?\)/],
    ['tokens[4].sha256', 'same hash as above', /same hash as tokens\[3\]/],
  ];
  assert.equal(
    problems.map((p) => p.path),
    expected.map(([path]) => path),
    'one problem per mistake, in file order',
  );
  problems.forEach((p, i) => {
    const [path, lineText, says] = expected[i]!;
    assert.is(p.file, file);
    assert.is(p.line, lineOf(text, lineText), `line of ${path}`);
    assert.ok(p.column > 0, `column of ${path}`);
    assert.match(p.message, says);
  });
  // A value is located at the value itself, not at its line's start.
  const logs = problems.find((p) => p.path === 'tenants[1].retention.logs')!;
  assert.is(colOf(text, logs.line, 'thirty'), logs.column);
});

/** 1-based column of `needle` on a 1-based line. */
function colOf(text: string, line: number, needle: string): number {
  return text.split('\n')[line - 1]!.indexOf(needle) + 1;
}

test('the error lists every problem on its own line as file:line:column: path: message', () => {
  try {
    loadRegistry(INVALID_URL);
    assert.unreachable('should throw');
  } catch (e) {
    assert.ok(isTenantscopeError(e));
    assert.is(e.code, 'TS_ERR_CONFIG');
    const problems = e.context.problems as RegistryProblem[];
    const lines = e.message.split('\n');
    assert.is(lines.length, problems.length + 1);
    assert.match(lines[0]!, /^invalid configuration: 16 problems in .*invalid-tenants\.yaml$/);
    problems.forEach((p, i) => assert.is(lines[i + 1], `${p.file}:${p.line}:${p.column}: ${p.path}: ${p.message}`));
  }
});

test('an unknown key typo is rejected with the key it probably meant', () => {
  const text = registryYaml(tenantYaml('typo-co', '    allowed_region: [us-west-2]\n'));
  const problems = problemsOf(() => parseRegistry(text, 'typo.yaml'));
  assert.is(problems.length, 1);
  const [p] = problems;
  assert.is(p!.path, 'tenants[0].allowed_region');
  assert.is(p!.line, lineOf(text, 'allowed_region:'));
  assert.is(p!.column, 5);
  assert.match(p!.message, /did you mean "allowed_regions"\?/);
  assert.match(p!.message, /allowed keys: id, name, tier/);
});

test('an identifier claimed by two tenants is rejected regardless of case', () => {
  const text = registryYaml(
    tenantYaml('north-co', '', '[NORTH, CUST-00001]') + tenantYaml('south-co', '', '[SOUTH, cust-00001]'),
  );
  const problems = problemsOf(() => parseRegistry(text, 'dup.yaml'));
  assert.is(problems.length, 1);
  assert.is(problems[0]!.path, 'tenants[1].identifiers[1]');
  assert.is(problems[0]!.line, lineOf(text, 'cust-00001'));
  assert.match(problems[0]!.message, /"cust-00001" already names tenant "north-co" \(tenants\[0\]\.identifiers\[1\], line \d+\)/);
});

test('an identifier equal to another tenant’s id is rejected too', () => {
  const text = registryYaml(tenantYaml('north-co') + tenantYaml('south-co', '', '[North-Co]'));
  const problems = problemsOf(() => parseRegistry(text, 'dup-id.yaml'));
  assert.equal(
    problems.map((p) => p.path),
    ['tenants[1].identifiers[0]'],
  );
  assert.match(problems[0]!.message, /already names tenant "north-co" \(tenants\[0\]\.id/);
});

test('a YAML syntax error is reported with its line and column, and nothing else', () => {
  const text = registryYaml(tenantYaml('quote-co').replace('name: quote-co Inc.', 'name: "Quote Co'));
  const problems = problemsOf(() => parseRegistry(text, 'syntax.yaml'));
  assert.ok(problems.length >= 1);
  for (const p of problems) {
    assert.is(p.file, 'syntax.yaml');
    assert.match(p.message, /^YAML syntax error: /);
  }
  // yaml notices the missing quote at the end of the input; the report points at the opening.
  assert.is(problems[0]!.line, lineOf(text, 'name: "Quote Co'));
  assert.is(problems[0]!.column, colOf(text, problems[0]!.line, '"Quote Co'));
  assert.match(problems[0]!.message, /Missing closing "quote \(the string opened here runs on to line \d+\)/);

  const indent = registryYaml(tenantYaml('indent-co').replace('    tier: shared', '   tier: shared'));
  const bad = problemsOf(() => parseRegistry(indent, 'indent.yaml'));
  assert.is(bad[0]!.line, lineOf(indent, '   tier: shared'));
  assert.match(bad[0]!.message, /^YAML syntax error: /);
});

test('a duplicate YAML key is rejected instead of silently keeping the last value', () => {
  const text = registryYaml(tenantYaml('twice-co', '    region: us-west-2\n'));
  const problems = problemsOf(() => parseRegistry(text, 'twice.yaml'));
  assert.is(problems.length, 1);
  assert.is(problems[0]!.line, lineOf(text, 'region: us-west-2'));
  assert.match(problems[0]!.message, /unique/);
});

test('retention values must be positive whole days', () => {
  const text = registryYaml(tenantYaml('keep-co', '    retention: { spans: 0, logs: -3, metric_points: 1.5, audit_events: "400" }\n'));
  const problems = problemsOf(() => parseRegistry(text, 'retention.yaml'));
  const line = lineOf(text, 'retention:');
  assert.equal(
    problems.map((p) => [p.path, p.line]),
    [
      ['tenants[0].retention.spans', line],
      ['tenants[0].retention.logs', line],
      ['tenants[0].retention.metric_points', line],
      ['tenants[0].retention.audit_events', line],
    ],
  );
  assert.match(problems[2]!.message, /must be integer; got 1.5/);
  assert.match(problems[3]!.message, /must be integer; got string "400"/);
});

test('a problem inside an anchored block points at the anchor’s definition', () => {
  const text = registryYaml(
    tenantYaml('first-co', '    retention: &keep { spans: 0 }\n') + tenantYaml('second-co', '    retention: *keep\n'),
  );
  const problems = problemsOf(() => parseRegistry(text, 'anchor.yaml'));
  assert.equal(
    problems.map((p) => [p.path, p.line]),
    [
      ['tenants[0].retention.spans', lineOf(text, '&keep')],
      ['tenants[1].retention.spans', lineOf(text, '&keep')],
    ],
  );
});

test('token scopes follow their kind', () => {
  const tenants = tenantYaml('one-co') + tenantYaml('two-co');
  const tokens = `tokens:
  - { name: a, kind: read, sha256: ${sha256('a')} }
  - { name: b, kind: ingest, sha256: ${sha256('b')} }
  - { name: c, kind: auditor, sha256: ${sha256('c')}, tenants: [one-co, two-co] }
  - { name: d, kind: admin, sha256: ${sha256('d')}, tenants: [] }
  - { name: c, kind: ingest, sha256: ${sha256('e')}, tenants: [two-co] }
`;
  const problems = problemsOf(() => parseRegistry(registryYaml(tenants, tokens), 'tokens.yaml'));
  assert.equal(
    problems.map((p) => p.path),
    ['tokens[0]', 'tokens[1]', 'tokens[3].tenants', 'tokens[3].tenants', 'tokens[4].name'],
  );
  assert.match(problems[0]!.message, /read token needs a tenants list with exactly one tenant id/);
  assert.match(problems[1]!.message, /ingest token needs a tenants list/);
  assert.ok(problems.some((p) => /admin token reaches every tenant/.test(p.message)));
  assert.match(problems[4]!.message, /duplicate token name "c"/);
});

test('an empty file and a file that is not a mapping are rejected at the document', () => {
  const empty = problemsOf(() => parseRegistry('', 'empty.yaml'));
  assert.equal(
    empty.map((p) => [p.path, p.line, p.column]),
    [['', 1, 1]],
  );
  assert.match(empty[0]!.message, /must be object; got an empty value/);
  const list = problemsOf(() => parseRegistry('- a\n- b\n', 'list.yaml'));
  assert.match(list[0]!.message, /must be object; got a list of 2 items/);
});

test('a missing registry file is a configuration error naming the file', () => {
  const problems = problemsOf(() => loadRegistry('fixtures/no-such-registry.yaml'));
  assert.equal(problems, [
    { file: 'fixtures/no-such-registry.yaml', path: '', line: 0, column: 0, message: 'cannot read the registry file (ENOENT)' },
  ]);
});

test('the JSON Schema and the TypeScript unions list the same values', () => {
  const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8'));
  const defs = schema.$defs;
  assert.equal(defs.control.enum, [...CONTROLS]);
  assert.equal(defs.piiClass.enum, [...PII_CLASSES]);
  assert.equal(defs.token.properties.kind.enum, [...TOKEN_KINDS]);
  assert.equal(defs.tenant.properties.tier.enum, [...TIER_NAMES]);
  assert.equal(Object.keys(schema.properties.tiers.properties), [...TIER_NAMES]);
  assert.equal(Object.keys(defs.retentionPartial.properties), [...DATA_CLASSES]);
});

test.run();
