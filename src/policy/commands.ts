// The `tenantscope policy` commands: eval (answer a query), test (run test_* rules the way
// `opa test` does) and conformance (OPA's conformance cases). Each returns its text and an
// exit code, so the CLI only prints.
import { readFileSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { regoFiles } from './files.js';
import { RegoEngine, formatConformance, runConformance, toJS } from './rego/index.js';
import { runPolicyTests } from './testing.js';
import './rego/builtins/index.js';

export interface CommandOutput {
  text: string;
  exitCode: number;
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
  const sources = paths.flatMap((p) => regoFiles(p)).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  const results = runPolicyTests(sources);
  const lines: string[] = [];
  let file = '';
  for (const r of results) {
    const rel = relative(process.cwd(), r.file);
    if (r.file !== file) {
      file = r.file;
      lines.push(`${rel}:`);
    }
    const ms = r.ms.toFixed(1);
    if (r.outcome === 'pass') lines.push(`  ${r.name}: PASS (${ms}ms)`);
    else if (r.outcome === 'fail') lines.push(`  ${r.name}: FAIL (${ms}ms) at ${rel}:${r.line}${r.detail ? ` (${r.detail})` : ''}`);
    else lines.push(`  ${r.name}: ERROR at ${rel}:${r.line}: ${r.detail}`);
  }
  const passed = results.filter((r) => r.outcome === 'pass').length;
  const failed = results.filter((r) => r.outcome === 'fail').length;
  const errored = results.length - passed - failed;
  lines.push('-'.repeat(80));
  lines.push(`PASS: ${passed}/${results.length}${failed ? `, FAIL: ${failed}` : ''}${errored ? `, ERROR: ${errored}` : ''}`);
  return { text: lines.join('\n'), exitCode: failed + errored > 0 || results.length === 0 ? 1 : 0 };
}

/** `policy conformance`: run OPA's conformance YAML cases below `dir`. */
export function conformanceCommand(dir: string): CommandOutput {
  const report = runConformance(dir);
  return { text: formatConformance(report), exitCode: report.failed > 0 ? 1 : 0 };
}
