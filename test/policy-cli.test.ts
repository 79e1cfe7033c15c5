// The `tenantscope policy` commands as a policy author uses them: test, eval, conformance.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from '../src/paths.js';
import { cliResult } from './support/cli.js';
import { DEMO_CONFIG, SHARED_DIR, startTestServer } from './support/server.js';
import { rmSync } from 'node:fs';

const POLICIES = fromRoot('test', 'fixtures', 'policies');
const CONFORMANCE = join(SHARED_DIR, 'rego-conformance', 'opa-v1');

test('policy test passes a directory whose test_ rules all hold, naming each', async () => {
  const r = await cliResult(['policy', 'test', join(POLICIES, 'passing')]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /data\.isolation_test\.test_export_without_approval_is_a_violation: PASS/);
  assert.match(r.stdout, /data\.isolation_test\.test_approved_export_passes: PASS/);
  assert.match(r.stdout, /PASS: 2\/2/);
});

test('the shipped isolation, retention, tier and recovery policies pass their own tests', async () => {
  const r = await cliResult(['policy', 'test', fromRoot('policies')]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  for (const pkg of ['isolation_test', 'retention_test', 'tiers_test', 'recovery_test']) assert.match(r.stdout, new RegExp(`data\\.tenantscope\\.${pkg}\\.test_\\w+: PASS`));
  assert.not.match(r.stdout, /FAIL|ERROR/);
});

test('policy test exits 1 and names the failing rule with its file and line', async () => {
  const r = await cliResult(['policy', 'test', join(POLICIES, 'failing')]);
  assert.is(r.code, 1);
  assert.match(r.stdout, /test_counts_a_violation_that_is_not_there: FAIL .* at .*isolation_test\.rego:15/);
  assert.match(r.stdout, /PASS: 2\/3, FAIL: 1/);
});

test('policy eval prints the value of a query with the input applied', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'policy-eval-'));
  const input = join(dir, 'input.json');
  writeFileSync(input, JSON.stringify({ tenant: { id: 'acme-dist' }, event: { id: 'e9', action: 'data.export', target: { id: 'orders' }, attributes: {} } }));
  const r = await cliResult(['policy', 'eval', '-d', join(POLICIES, 'passing'), '-i', input, 'data.isolation.violations']);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { result: Array<{ value: Array<{ rule: string; evidence: { event_ids: string[] } }> }> };
  assert.is(out.result.length, 1);
  assert.equal(out.result[0]!.value.map((v) => v.rule), ['export_without_approval']);
  assert.equal(out.result[0]!.value[0]!.evidence.event_ids, ['e9']);
});

test('policy eval prints variable bindings, and an undefined query as an empty result', async () => {
  const r = await cliResult(['policy', 'eval', 'x := [1, 2, 3][i]; x > 1']);
  const out = JSON.parse(r.stdout) as { result: Array<{ bindings: Record<string, number> }> };
  assert.equal(out.result.map((b) => b.bindings), [{ x: 2, i: 1 }, { x: 3, i: 2 }]);
  const none = await cliResult(['policy', 'eval', '-d', join(POLICIES, 'passing'), 'data.isolation.nothing']);
  assert.equal(JSON.parse(none.stdout), { result: [] });
});

test('a parse error in a query or policy is reported with its position and exit 2', async () => {
  const r = await cliResult(['policy', 'eval', 'x := 1 +']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /query:1:\d+: rego_parse_error/);
  const dir = mkdtempSync(join(tmpdir(), 'policy-bad-'));
  writeFileSync(join(dir, 'bad.rego'), 'package bad\n\nimport rego.v1\n\np if {\n  input.x ==\n}\n');
  const bad = await cliResult(['policy', 'test', dir]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /bad\.rego:\d+:\d+: rego_parse_error/);
});

const conformanceTest = existsSync(CONFORMANCE) ? test : test.skip;
if (!existsSync(CONFORMANCE)) console.log(`skip: ${CONFORMANCE} not found; the conformance command test is skipped`);

conformanceTest('policy conformance prints a per-category table and ends with N passed, M failed', async () => {
  const r = await cliResult(['policy', 'conformance', CONFORMANCE]);
  assert.match(r.stdout, /^category\s+pass\s+fail$/m);
  assert.match(r.stdout, /^comprehensions\s+\d+\s+0$/m);
  assert.match(r.stdout, /^\d+ passed, \d+ failed$/m);
});

test('policy run evaluates the scheduled policies against the store, records and prints the findings', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'policy-run-'));
  try {
    const r = await cliResult(['policy', 'run', '--config', DEMO_CONFIG, '--data-dir', dataDir]);
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /info\s+umbrella-pharma\s+retention\/legal_hold_active\s+legal_hold/);
    // An empty store holds no backup facts: every tenant's required components were never backed up.
    assert.match(r.stdout, /high\s+globex-3pl\s+recovery\/component_never_backed_up\s+integration_state/);
    assert.match(r.stdout, /high\s+globex-3pl\s+recovery\/failover_never_tested\s+failover/);
    assert.match(r.stdout, /\d+ findings, 0 policy errors, 0 resolved/);
    const json = await cliResult(['policy', 'run', '--config', DEMO_CONFIG, '--data-dir', dataDir, '--json', '--no-record']);
    assert.is(json.code, 0, json.stderr);
    const run = JSON.parse(json.stdout) as { findings: { tenant: string; policy: string; rule: string; subject: string }[] };
    assert.equal(run.findings.filter((f) => f.policy !== 'recovery').map((f) => `${f.tenant} ${f.rule}`), ['umbrella-pharma legal_hold_active']);
    const never = run.findings.filter((f) => f.rule === 'component_never_backed_up');
    assert.equal(new Set(never.map((f) => f.tenant)).size, 7, 'every tenant');
    assert.ok(never.filter((f) => f.tenant === 'acme-dist').every((f) => ['database', 'object_storage', 'config'].includes(f.subject)), 'a shared tenant is held to its tier\'s components only');

    const v = await cliResult(['violations', '--tenant', 'umbrella-pharma', '--config', DEMO_CONFIG, '--data-dir', dataDir, '--json']);
    assert.is(v.code, 0, v.stderr);
    const listed = (JSON.parse(v.stdout) as { violations: { policy: string; rule: string; count: number; status: string }[] }).violations;
    // Recorded once: the --no-record run stored nothing.
    assert.equal(listed.filter((x) => x.policy !== 'recovery').map((x) => `${x.rule} ${x.status} ${x.count}`), ['legal_hold_active open 1']);
    assert.ok(listed.filter((x) => x.policy === 'recovery').every((x) => x.count === 1));
    const unknown = await cliResult(['violations', '--tenant', 'nobody', '--config', DEMO_CONFIG, '--data-dir', dataDir]);
    assert.is(unknown.code, 2);
    assert.match(unknown.stderr, /not in the registry/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('policy run refuses a policy directory whose tests fail, with the reason', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'policy-run-'));
  try {
    const r = await cliResult(['policy', 'run', '--config', DEMO_CONFIG, '--data-dir', dataDir, '--policies', join(POLICIES, 'failing')]);
    assert.is(r.code, 2);
    assert.match(r.stderr, /refused: 1 of 3 tests fail/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('violations --api answers with the caller\'s scope: a token for another tenant is refused', async () => {
  const server = await startTestServer({ policyIntervalMs: 0 });
  try {
    await server.policies!.runScheduled();
    const own = await cliResult(['violations', '--api', server.apiUrl, '--token', 'demo-read-umbrella-pharma', '--tenant', 'umbrella-pharma']);
    assert.is(own.code, 0, own.stderr);
    assert.match(own.stdout, /legal_hold_active/);
    const other = await cliResult(['violations', '--api', server.apiUrl, '--token', 'demo-read-acme-dist', '--tenant', 'umbrella-pharma']);
    assert.is(other.code, 2);
    assert.match(other.stderr, /TS_ERR_FORBIDDEN/);
    assert.not.match(other.stdout + other.stderr, /legal_hold/);
  } finally {
    await server.stop();
  }
});

test.run();
