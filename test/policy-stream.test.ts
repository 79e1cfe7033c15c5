// Streamed evaluation and policy loading, on small policy sets written for each case: how a
// slow, failing or malformed policy is contained and recorded, and which policy sets are refused.
import { readChunk } from './support/native-read.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRegistry } from '../src/config/index.js';
import { stageLogger } from '../src/log.js';
import { fromRoot } from '../src/paths.js';
import { loadPolicySet, PolicyLoadError } from '../src/policy/policy-set.js';
import { FindingRecorder } from '../src/policy/recorder.js';
import { StreamPolicies, DEFAULT_STREAM_OPTIONS, type StreamOptions } from '../src/policy/stream.js';
import type { AuditEventPolicyInput, Finding } from '../src/policy/types.js';
import { DEMO_CONFIG } from './support/server.js';

const registry = loadRegistry(DEMO_CONFIG);
const log = stageLogger('policy-test');
const dirs: string[] = [];

/** A policy directory holding `files`. */
function policyDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tenantscope-rego-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

// One package with a rule per behaviour, selected by the event's action.
const BEHAVIOURS = `package probe
import rego.v1

evaluated_on := {"audit_event"}

finding(rule) := {"policy": "probe", "rule": rule, "severity": "low", "tenant": input.tenant, "subject": input.event.id, "message": rule, "evidence": {}}

violations contains finding("seen") if input.event.action == "probe.seen"

# Slow on purpose: a large comprehension, evaluated only for this action.
violations contains finding("slow") if {
	input.event.action == "probe.slow"
	count([x | some x in numbers.range(1, 400000); x % 7 == 0]) > 0
}

# Two values for one complete rule: an evaluation error.
conflict := 1 if input.event.action == "probe.conflict"
conflict := 2 if input.event.action == "probe.conflict"
violations contains finding("conflict") if conflict > 0

# A finding without the required fields.
violations contains {"policy": "probe"} if input.event.action == "probe.malformed"

# A finding naming a tenant that is not in the registry.
violations contains object.union(finding("stranger"), {"tenant": "nobody-here"}) if input.event.action == "probe.stranger"
`;

const PROBE_TEST = `package probe_test
import rego.v1
import data.probe

test_seen if count(probe.violations) == 1 with input as {"tenant": "acme-dist", "event": {"id": "e", "action": "probe.seen"}}
`;

function event(action: string, id = action): AuditEventPolicyInput {
  return {
    kind: 'audit_event',
    tenant: 'acme-dist',
    event: { id, time: '2026-11-20T10:00:00Z', actor: { id: 'u', type: 'user', tenant_id: 'acme-dist' }, action, target: { type: 't', id: 'x', tenant_id: 'acme-dist' }, outcome: 'success', region: '', ticket: '', attributes: {} },
  };
}

/** A stream evaluator over the probe policies, recording into `stored`. */
async function probeStream(opts: Partial<StreamOptions> = {}) {
  const stored: Finding[] = [];
  const recorder = new FindingRecorder(
    registry,
    async (chunk) => {
      for (const r of readChunk(chunk)) {
        stored.push({ policy: r.policy, rule: r.rule, severity: r.severity, tenant: r.tenant_id, subject: r.subject, message: r.message, evidence: JSON.parse(r.evidence as string) } as Finding);
      }
    },
    log,
  );
  const stream = new StreamPolicies(registry, recorder, log, { ...DEFAULT_STREAM_OPTIONS, ...opts });
  await stream.load(loadPolicySet(policyDir({ 'probe.rego': BEHAVIOURS, 'probe_test.rego': PROBE_TEST })));
  return { stream, stored };
}

test('a finding is recorded once its input is evaluated', async () => {
  const { stream, stored } = await probeStream();
  try {
    await stream.submit([event('probe.seen', 'evt-1'), event('probe.quiet', 'evt-2')]);
    await stream.drain();
    assert.equal(stored.map((f) => `${f.rule} ${f.subject}`), ['seen evt-1']);
    assert.is(stream.stats.evaluated, 2);
  } finally {
    await stream.close();
  }
});

test('ingest stops waiting at the budget; the slow verdict is still recorded when it comes', async () => {
  const { stream, stored } = await probeStream({ budgetMs: 1 });
  try {
    await stream.submit([event('probe.slow', 'evt-slow')]);
    // Acknowledged at the budget, before the evaluation ended.
    assert.is(stream.stats.overBudget, 1);
    assert.is(stored.length, 0);
    await stream.drain();
    assert.equal(stored.map((f) => `${f.rule} ${f.subject}`), ['slow evt-slow']);
  } finally {
    await stream.close();
  }
});

test('an evaluation past the hard timeout is recorded as a policy error, and the inputs behind it are still evaluated', async () => {
  const { stream, stored } = await probeStream({ budgetMs: 1, hardTimeoutMs: 30 });
  try {
    await stream.submit([event('probe.slow', 'evt-slow'), event('probe.seen', 'evt-after')]);
    await stream.drain();
    const rules = stored.map((f) => `${f.policy}/${f.rule} ${f.subject}`).sort();
    assert.equal(rules, ['probe/seen evt-after', 'tenantscope/policy_error tenantscope']);
    const err = stored.find((f) => f.rule === 'policy_error')!;
    assert.is(err.tenant, 'acme-dist');
    assert.match(err.message, /exceeded 30 ms/);
    assert.equal((err.evidence as { event_ids: string[] }).event_ids, ['evt-slow']);
    assert.is(stream.stats.timeouts, 1);
  } finally {
    await stream.close();
  }
});

test('a policy that fails to evaluate is recorded as a policy error naming its package', async () => {
  const { stream, stored } = await probeStream();
  try {
    await stream.submit([event('probe.conflict', 'evt-c')]);
    await stream.drain();
    assert.is(stored.length, 1);
    assert.is(stored[0]!.rule, 'policy_error');
    assert.is(stored[0]!.subject, 'probe');
    assert.match(stored[0]!.message, /policy probe failed on a audit_event input/);
  } finally {
    await stream.close();
  }
});

test('a malformed finding, or one naming an unknown tenant, is recorded as a policy error', async () => {
  const { stream, stored } = await probeStream();
  try {
    await stream.submit([event('probe.malformed', 'evt-m'), event('probe.stranger', 'evt-s')]);
    await stream.drain();
    assert.equal(stored.map((f) => f.rule), ['policy_error', 'policy_error']);
    assert.match(stored[0]!.message, /has no string rule/);
    assert.match(stored[1]!.message, /unknown tenant/);
    assert.not.ok(stored.some((f) => f.tenant === 'nobody-here'));
  } finally {
    await stream.close();
  }
});

test('beyond the backlog limit an input is not evaluated, and that is recorded', async () => {
  const { stream, stored } = await probeStream({ maxQueued: 1, batchSize: 1, budgetMs: 1 });
  try {
    await stream.submit([event('probe.slow', 'evt-1'), event('probe.seen', 'evt-2'), event('probe.seen', 'evt-3')]);
    await stream.drain();
    assert.is(stream.stats.skipped, 1);
    const skipped = stored.filter((f) => f.rule === 'policy_error');
    assert.is(skipped.length, 1);
    assert.match(skipped[0]!.message, /not evaluated/);
    assert.equal((skipped[0]!.evidence as { event_ids: string[] }).event_ids, ['evt-3']);
  } finally {
    await stream.close();
  }
});

test('the shipped policies load, with their tests passing and their entry points declared', () => {
  const set = loadPolicySet(fromRoot('policies'));
  assert.equal(set.entryPoints.map((e) => `${e.pkg}: ${e.evaluatedOn.join(',')}`).sort(), [
    'tenantscope.isolation: audit_event,ingest_summary',
    'tenantscope.recovery: recovery',
    'tenantscope.retention: scheduled',
    'tenantscope.tiers: scheduled',
  ]);
  assert.ok(set.tests.total >= 30);
});

function refusal(files: Record<string, string>): string {
  try {
    loadPolicySet(policyDir(files));
  } catch (e) {
    assert.instance(e, PolicyLoadError);
    return (e as PolicyLoadError).reason;
  }
  throw new Error('the policy set was accepted');
}

test('a policy set is refused when a file does not parse, naming the file and line', () => {
  const reason = refusal({ 'probe.rego': BEHAVIOURS, 'broken.rego': 'package broken\nimport rego.v1\n\nviolations contains x if {\n' });
  assert.match(reason, /broken\.rego/);
  assert.match(reason, /5|4/);
});

test('a policy set is refused when one of its tests fails, naming the test', () => {
  const reason = refusal({ 'probe.rego': BEHAVIOURS, 'probe_test.rego': PROBE_TEST.replace('== 1', '== 2') });
  assert.match(reason, /1 of 1 tests fail: data\.probe_test\.test_seen FAIL/);
});

test('a policy set is refused when a package with violations does not say what it is evaluated on', () => {
  assert.match(refusal({ 'p.rego': 'package p\nimport rego.v1\nviolations contains 1 if false\n' }), /defines violations but not evaluated_on/);
  assert.match(refusal({ 'p.rego': 'package p\nimport rego.v1\nevaluated_on := {"hourly"}\nviolations contains 1 if false\n' }), /evaluated_on must be a set of/);
  assert.match(refusal({}), /no \.rego files/);
});

test('a policy set that compiles but has a compile error elsewhere is refused', () => {
  const reason = refusal({ 'probe.rego': BEHAVIOURS, 'bad.rego': 'package bad\nimport rego.v1\nx := y\n' });
  assert.match(reason, /does not compile|unsafe|y/);
});

test('a copy of the shipped policies is accepted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tenantscope-rego-'));
  dirs.push(dir);
  cpSync(fromRoot('policies'), dir, { recursive: true });
  assert.is(loadPolicySet(dir).entryPoints.length, 4);
});

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test.run();
