// Runs the `test_*` rules of a set of policy modules the way `opa test` does: each test is a
// complete rule that must evaluate to true. Shared by `tenantscope policy test` and by the
// policy loader, which refuses a policy set whose tests fail.
import { RegoEngine, parseModule } from './rego/index.js';
import './rego/builtins/index.js';

/** A policy source file. */
export interface PolicySource {
  file: string;
  text: string;
}

/** The outcome of one test rule. */
export interface TestResult {
  file: string;
  line: number;
  /** e.g. data.tenantscope.isolation_test.test_export_without_approval */
  name: string;
  outcome: 'pass' | 'fail' | 'error';
  /** Why it failed or errored. */
  detail: string;
  ms: number;
}

/** Parse, compile and run every test rule of `sources` (no base data: tests bring their own). */
export function runPolicyTests(sources: readonly PolicySource[]): TestResult[] {
  const engine = new RegoEngine();
  for (const s of sources) engine.addModule(s.file, s.text);
  engine.compile();
  const out: TestResult[] = [];
  for (const s of sources) {
    const mod = parseModule(s.text, s.file);
    const seen = new Set<string>();
    for (const rule of mod.rules) {
      if (rule.kind !== 'complete' || !rule.name.startsWith('test_') || seen.has(rule.name)) continue;
      seen.add(rule.name);
      const name = `data.${[...mod.pkg, rule.name].join('.')}`;
      const started = performance.now();
      let outcome: TestResult['outcome'];
      let detail = '';
      try {
        const v = engine.evalRule(name);
        outcome = v === true ? 'pass' : 'fail';
        if (v === undefined) detail = 'undefined';
      } catch (e) {
        outcome = 'error';
        detail = (e as Error).message;
      }
      out.push({ file: s.file, line: rule.loc.line, name, outcome, detail, ms: performance.now() - started });
    }
  }
  return out;
}
