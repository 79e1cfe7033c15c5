// A policy set: the .rego files of a directory, accepted only whole. Loading parses and
// compiles every file, runs every test_* rule, and finds the entry points (packages with a
// `violations` rule, each saying through `evaluated_on` which inputs it reads). Anything wrong
// refuses the whole set with the reason, so a half-edited directory never replaces a working one.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { RegoEngine, parseModule, toJS } from './rego/index.js';
import { regoFiles } from './files.js';
import { runPolicyTests, type PolicySource } from './testing.js';
import type { InputKind } from './types.js';

const INPUT_KINDS: readonly InputKind[] = ['audit_event', 'ingest_summary', 'scheduled', 'recovery'];

/** A package whose `violations` tenantscope evaluates. */
export interface EntryPoint {
  /** Package path, e.g. tenantscope.isolation. */
  pkg: string;
  /** The input kinds it is evaluated on. */
  evaluatedOn: InputKind[];
}

/** A loaded, tested policy set. */
export interface PolicySet {
  dir: string;
  /** SHA-256 over file names and contents: changes whenever any file does. */
  version: string;
  sources: PolicySource[];
  entryPoints: EntryPoint[];
  tests: { passed: number; total: number };
  loadedAt: string;
}

/** Why a policy set was refused. */
export class PolicyLoadError extends Error {
  override readonly name = 'PolicyLoadError';
  constructor(
    readonly dir: string,
    readonly reason: string,
  ) {
    super(`policies in ${dir} refused: ${reason}`);
  }
}

/** Read every .rego file below `dir` (sorted). */
export function readPolicySources(dir: string): PolicySource[] {
  let files: string[];
  try {
    files = regoFiles(dir);
  } catch (e) {
    throw new PolicyLoadError(dir, `cannot read the directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return files.map((file) => ({ file, text: readFileSync(file, 'utf8') }));
}

/** Load, compile and test the policies in `dir`; throws PolicyLoadError with the reason. */
export function loadPolicySet(dir: string, sources: PolicySource[] = readPolicySources(dir)): PolicySet {
  const rel = (f: string) => relative(dir, f) || f;
  if (sources.length === 0) throw new PolicyLoadError(dir, 'no .rego files');
  const packages = new Map<string, { hasViolations: boolean; hasEvaluatedOn: boolean }>();
  for (const s of sources) {
    let mod;
    try {
      mod = parseModule(s.text, s.file);
    } catch (e) {
      throw new PolicyLoadError(dir, `${rel(s.file)}: ${(e as Error).message}`);
    }
    const pkg = mod.pkg.join('.');
    const p = packages.get(pkg) ?? { hasViolations: false, hasEvaluatedOn: false };
    for (const r of mod.rules) {
      if (r.name === 'violations') p.hasViolations = true;
      if (r.name === 'evaluated_on') p.hasEvaluatedOn = true;
    }
    packages.set(pkg, p);
  }

  let results;
  try {
    results = runPolicyTests(sources);
  } catch (e) {
    throw new PolicyLoadError(dir, `does not compile: ${(e as Error).message}`);
  }
  const bad = results.filter((r) => r.outcome !== 'pass');
  if (bad.length > 0) {
    const list = bad.slice(0, 5).map((r) => `${r.name} ${r.outcome === 'fail' ? 'FAIL' : `ERROR (${r.detail})`} at ${rel(r.file)}:${r.line}`);
    throw new PolicyLoadError(dir, `${bad.length} of ${results.length} tests fail: ${list.join('; ')}${bad.length > 5 ? '; ...' : ''}`);
  }

  const engine = new RegoEngine();
  for (const s of sources) engine.addModule(s.file, s.text);
  const entryPoints: EntryPoint[] = [];
  for (const [pkg, p] of packages) {
    if (!p.hasViolations) continue;
    if (!p.hasEvaluatedOn) throw new PolicyLoadError(dir, `package ${pkg} defines violations but not evaluated_on (the input kinds it reads: ${INPUT_KINDS.join(', ')})`);
    const v = toJS(engine.evalRule(`data.${pkg}.evaluated_on`) ?? null);
    const kinds = Array.isArray(v) ? v : [];
    const unknown = kinds.filter((k) => !INPUT_KINDS.includes(k as InputKind));
    if (kinds.length === 0 || unknown.length > 0) {
      throw new PolicyLoadError(dir, `package ${pkg}: evaluated_on must be a set of ${INPUT_KINDS.join(', ')}; got ${JSON.stringify(v)}`);
    }
    entryPoints.push({ pkg, evaluatedOn: kinds as InputKind[] });
  }
  if (entryPoints.length === 0) throw new PolicyLoadError(dir, 'no package defines violations');

  const hash = createHash('sha256');
  for (const s of sources) hash.update(rel(s.file)).update('\0').update(s.text).update('\0');
  return {
    dir,
    version: hash.digest('hex').slice(0, 16),
    sources,
    entryPoints,
    tests: { passed: results.length, total: results.length },
    loadedAt: new Date().toISOString(),
  };
}
