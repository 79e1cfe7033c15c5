// Runner for OPA's YAML conformance cases (see the SOURCE.md beside the cases for the format).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import YAML from 'yaml';
import { termToValue } from './compiler.js';
import { RegoEngine } from './engine.js';
import { RegoEvalError } from './eval.js';
import { RegoError } from './lexer.js';
import { parseTerm } from './parser.js';
import { compare, fromJS, toJS, toJSONText, type Value } from './value.js';

/** The outcome of one conformance case. */
export interface CaseResult {
  file: string;
  category: string;
  note: string;
  /** The note, made unique by ` #n` where upstream repeats a note. */
  id: string;
  ok: boolean;
  reason?: string;
}

/** All case outcomes with per-category totals. */
export interface ConformanceReport {
  cases: CaseResult[];
  categories: Map<string, { passed: number; failed: number }>;
  passed: number;
  failed: number;
}

interface Case {
  note: string;
  query: string;
  modules?: string[];
  data?: unknown;
  input?: unknown;
  input_term?: string;
  want_result?: Record<string, unknown>[];
  want_error_code?: string;
  want_error?: string;
  strict_error?: boolean;
  sort_bindings?: boolean;
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (n.endsWith('.yaml') || n.endsWith('.yml')) out.push(p);
  }
  return out;
}

/** Canonical text of a result value as the YAML files express it (sets as lists, keys as text). */
function canon(v: Value, sortLists: boolean): string {
  let x = fromJS(toJS(v));
  if (sortLists && Array.isArray(x)) x = [...x].sort(compare);
  return toJSONText(x);
}

function canonResults(rs: Record<string, Value>[], sortLists: boolean): string[] {
  return rs
    .map((r) =>
      Object.keys(r)
        .sort()
        .map((k) => `${k}=${canon(r[k]!, sortLists)}`)
        .join(';'),
    )
    .sort();
}

function short(s: string, n = 160): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > n ? `${one.slice(0, n)}…` : one;
}

/** Pre-v1 module text (rule bodies without `if`), which a few files of the v1 folder still use. */
function needsV0(c: Case): boolean {
  return (c.modules ?? []).some((m) => /^[\w.\[\]"]+(\s*=\s*[^{\n]+)?\s*\{\s*$/m.test(m) && !/\bif\b/.test(m));
}

function runCase(c: Case): string | undefined {
  const eng = new RegoEngine({ v0Compatible: needsV0(c) });
  let results: Record<string, Value>[];
  try {
    (c.modules ?? []).forEach((m, i) => eng.addModule(`test-${i}.rego`, m));
    if (c.data !== undefined) eng.setData(c.data);
    let input: Value | undefined;
    if (c.input_term !== undefined) input = termToValue(parseTerm(c.input_term, 'input_term'));
    else if (c.input !== undefined) input = fromJS(c.input);
    results = eng.prepare(c.query).eval({ input, strictBuiltinErrors: c.strict_error === true, nowNs: BigInt(Date.now()) * 1_000_000n });
  } catch (e) {
    const code = e instanceof RegoError || e instanceof RegoEvalError ? e.code : 'internal_error';
    const msg = e instanceof Error ? e.message : String(e);
    if (c.want_error_code === undefined && c.want_error === undefined) return `unexpected error: ${short(msg)}`;
    if (c.want_error_code !== undefined && c.want_error_code !== code) return `want error code ${c.want_error_code}, got ${code}: ${short(msg)}`;
    if (c.want_error && !msg.includes(c.want_error)) return `want error containing "${c.want_error}", got: ${short(msg)}`;
    return undefined;
  }
  if (c.want_error_code !== undefined || c.want_error !== undefined) return `want error ${c.want_error_code ?? ''} "${c.want_error ?? ''}", got ${results.length} result(s)`;
  if (c.want_result === undefined) return undefined;
  const sortLists = c.sort_bindings === true;
  const want = canonResults(
    c.want_result.map((r) => Object.fromEntries(Object.entries(r ?? {}).map(([k, v]) => [k, fromJS(v)]))),
    sortLists,
  );
  const got = canonResults(results, sortLists);
  if (JSON.stringify(want) !== JSON.stringify(got)) return `want ${short(want.join(' | '), 120)}; got ${short(got.join(' | '), 120)}`;
  return undefined;
}

/** Run every conformance YAML file below `dir`. */
export function runConformance(dir: string): ConformanceReport {
  const cases: CaseResult[] = [];
  for (const file of yamlFiles(dir)) {
    const rel = relative(dir, file);
    const category = rel.includes('/') ? rel.split('/')[0]! : rel;
    let doc: { cases?: Case[] };
    try {
      doc = YAML.parse(readFileSync(file, 'utf8'), { intAsBigInt: true }) as { cases?: Case[] };
    } catch (e) {
      cases.push({ file: rel, category, note: rel, id: rel, ok: false, reason: `yaml: ${(e as Error).message}` });
      continue;
    }
    for (const c of doc.cases ?? []) {
      let reason: string | undefined;
      try {
        reason = runCase(c);
      } catch (e) {
        reason = `runner crash: ${short(String(e))}`;
      }
      cases.push({ file: rel, category, note: String(c.note), id: String(c.note), ok: reason === undefined, reason });
    }
  }
  const seen = new Map<string, number>();
  for (const r of cases) seen.set(r.note, (seen.get(r.note) ?? 0) + 1);
  const nth = new Map<string, number>();
  for (const r of cases) {
    if (seen.get(r.note)! < 2) continue;
    const n = (nth.get(r.note) ?? 0) + 1;
    nth.set(r.note, n);
    r.id = `${r.note} #${n}`;
  }
  const categories = new Map<string, { passed: number; failed: number }>();
  for (const r of cases) {
    const e = categories.get(r.category) ?? { passed: 0, failed: 0 };
    if (r.ok) e.passed++;
    else e.failed++;
    categories.set(r.category, e);
  }
  const passed = cases.filter((c) => c.ok).length;
  return { cases, categories, passed, failed: cases.length - passed };
}

/** A printable summary: per-category table, failures, and `N passed, M failed`. */
export function formatConformance(r: ConformanceReport): string {
  const lines: string[] = [];
  const w = Math.max(8, ...[...r.categories.keys()].map((k) => k.length));
  lines.push(`${'category'.padEnd(w)}  pass  fail`);
  for (const [k, v] of [...r.categories].sort(([a], [b]) => (a < b ? -1 : 1))) lines.push(`${k.padEnd(w)}  ${String(v.passed).padStart(4)}  ${String(v.failed).padStart(4)}`);
  const fails = r.cases.filter((c) => !c.ok);
  if (fails.length) {
    lines.push('', 'failures:');
    for (const f of fails) lines.push(`  ${f.id}: ${f.reason}`);
  }
  lines.push('', `${r.passed} passed, ${r.failed} failed`);
  return lines.join('\n');
}
