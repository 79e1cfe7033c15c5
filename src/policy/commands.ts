// The `tenantscope policy` commands: eval (answer a query), test (run test_* rules the way
// `opa test` does) and conformance (OPA's conformance cases). Each returns its text and an
// exit code, so the CLI only prints.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { RegoEngine, formatConformance, parseModule, runConformance, toJS } from './rego/index.js';
import './rego/builtins/index.js';

export interface CommandOutput {
  text: string;
  exitCode: number;
}

/** Every .rego file at `path` (a file, or a directory searched recursively), sorted. */
export function regoFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const out: string[] = [];
  for (const name of readdirSync(path).sort()) {
    const p = join(path, name);
    if (statSync(p).isDirectory()) out.push(...regoFiles(p));
    else if (name.endsWith('.rego')) out.push(p);
  }
  return out;
}

/** Load policy files and JSON data files from `-d` paths into a new engine. */
export function loadEngine(paths: readonly string[]): RegoEngine {
  const engine = new RegoEngine();
  let data: Record<string, unknown> = {};
  for (const path of paths) {
    if (!statSync(path).isDirectory() && path.endsWith('.json')) {
      data = { ...data, ...(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) };
      continue;
    }
    for (const file of regoFiles(path)) engine.addModule(file, readFileSync(file, 'utf8'));
  }
  engine.setData(data);
  return engine;
}

const VALUE_VAR = '__value__';

/**
 * `policy eval`: one entry per solution, with the query's value when it is a single term
 * (`data.isolation.violations`) and the bindings of its variables; `{"result": []}` when the
 * query is undefined.
 */
export function evalCommand(paths: readonly string[], query: string, inputFile?: string): CommandOutput {
  const engine = loadEngine(paths);
  const input = inputFile ? (JSON.parse(readFileSync(inputFile, 'utf8')) as unknown) : undefined;
  let results;
  let hasValue = true;
  try {
    // A single-term query also gets its value; other queries (x := ..., a; b) only bindings.
    results = engine.eval(`${VALUE_VAR} := (${query})`, { input });
  } catch {
    hasValue = false;
    results = engine.eval(query, { input });
  }
  const json = results.map((b) => {
    const bindings = Object.fromEntries(Object.entries(b).filter(([k]) => k !== VALUE_VAR).map(([k, v]) => [k, toJS(v)]));
    return hasValue ? { value: toJS(b[VALUE_VAR]!), bindings } : { bindings };
  });
  return { text: JSON.stringify({ result: json }, null, 2), exitCode: 0 };
}

/** `policy test`: evaluate every `test_*` rule; PASS when it is true. */
export function testCommand(paths: readonly string[]): CommandOutput {
  const engine = loadEngine(paths);
  engine.compile();
  const lines: string[] = [];
  let passed = 0;
  let failed = 0;
  let errored = 0;
  for (const path of paths) {
    for (const file of regoFiles(path)) {
      const mod = parseModule(readFileSync(file, 'utf8'), file);
      const tests = [...new Set(mod.rules.filter((r) => r.kind === 'complete' && r.name.startsWith('test_')).map((r) => r.name))];
      if (tests.length === 0) continue;
      lines.push(`${relative(process.cwd(), file)}:`);
      for (const name of tests) {
        const rule = mod.rules.find((r) => r.name === name)!;
        const where = `${relative(process.cwd(), file)}:${rule.loc.line}`;
        const doc = `data.${[...mod.pkg, name].join('.')}`;
        const started = performance.now();
        try {
          const v = engine.evalRule(doc);
          const ms = (performance.now() - started).toFixed(1);
          if (v === true) {
            passed++;
            lines.push(`  ${doc}: PASS (${ms}ms)`);
          } else {
            failed++;
            lines.push(`  ${doc}: FAIL (${ms}ms) at ${where}${v === undefined ? ' (undefined)' : ''}`);
          }
        } catch (e) {
          errored++;
          lines.push(`  ${doc}: ERROR at ${where}: ${(e as Error).message}`);
        }
      }
    }
  }
  lines.push('-'.repeat(80));
  const total = passed + failed + errored;
  lines.push(`PASS: ${passed}/${total}${failed ? `, FAIL: ${failed}` : ''}${errored ? `, ERROR: ${errored}` : ''}`);
  return { text: lines.join('\n'), exitCode: failed + errored > 0 || total === 0 ? 1 : 0 };
}

/** `policy conformance`: run OPA's conformance YAML cases below `dir`. */
export function conformanceCommand(dir: string): CommandOutput {
  const report = runConformance(dir);
  return { text: formatConformance(report), exitCode: report.failed > 0 ? 1 : 0 };
}
