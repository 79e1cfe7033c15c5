// String builtins. Positions and lengths count Unicode code points (Go runes), as OPA does, not
// the UTF-16 units JS strings index by; that is why several of these spread strings into arrays.
import { BuiltinError, type BuiltinDef } from './types.js';
import { RSet, type Value } from '../value.js';
import { builtinError, obj, oneOf, smallInt, str, strColl, typeError, typeErrorLabel, num } from './operands.js';

/** Strip every leading code point contained in `cutset` (Go strings.TrimLeft). */
export function trimLeft(s: string, cutset: string): string {
  const cut = new Set(cutset);
  const cps = [...s];
  let i = 0;
  while (i < cps.length && cut.has(cps[i]!)) i++;
  return cps.slice(i).join('');
}

/** Strip every trailing code point contained in `cutset` (Go strings.TrimRight). */
export function trimRight(s: string, cutset: string): string {
  const cut = new Set(cutset);
  const cps = [...s];
  let j = cps.length;
  while (j > 0 && cut.has(cps[j - 1]!)) j--;
  return cps.slice(0, j).join('');
}

// Go maps case one rune at a time: where JS expands a character ("ß" -> "SS"), Go keeps it for
// upper case, and for lower case ("İ") takes the first rune of the expansion.
// lower()/upper() results, bounded: policies case-fold the same identifiers on every evaluation.
const lowerCache = new Map<string, string>();
const upperCache = new Map<string, string>();
function cachedCase(cache: Map<string, string>, s: string, f: (c: string) => string, firstOfExpansion: boolean): string {
  let r = cache.get(s);
  if (r === undefined) {
    r = mapRunes(s, f, firstOfExpansion);
    if (cache.size >= 4096) cache.clear();
    cache.set(s, r);
  }
  return r;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

function mapRunes(s: string, f: (c: string) => string, firstOfExpansion: boolean): string {
  // ASCII maps one character to one character: the whole-string mapping is the same.
  if (isAscii(s)) return f(s);
  let out = '';
  for (const c of s) {
    const m = [...f(c)];
    out += m.length === 1 ? m[0] : firstOfExpansion ? m[0] ?? c : c;
  }
  return out;
}

/** Code-point index of `sub` in `s`, or -1. */
function runeIndex(s: string, sub: string, from = 0): number {
  const i = s.indexOf(sub, from);
  return i < 0 ? -1 : [...s.slice(0, i)].length;
}

function stringsOrColl(name: string, args: Value[], pos: number): string[] {
  const v = args[pos - 1]!;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) || v instanceof RSet) return strColl(name, args, pos);
  return typeError(name, pos, oneOf('string', 'set', 'array'), v);
}

// Go's strings.NewReplacer: one left-to-right pass; at each position the first pattern (in
// argument order, here OPA's sorted key order) that matches wins; empty patterns match anywhere.
function replaceMany(s: string, pairs: [string, string][]): string {
  let out = '';
  let i = 0;
  while (i <= s.length) {
    let hit: [string, string] | undefined;
    for (const p of pairs) {
      if (s.startsWith(p[0], i)) {
        hit = p;
        break;
      }
    }
    if (hit && hit[0] !== '') {
      out += hit[1];
      i += hit[0].length;
      continue;
    }
    if (hit) out += hit[1];
    if (i === s.length) break;
    const cp = s.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    out += ch;
    i += ch.length;
  }
  return out;
}

/** String builtins. */
export const DEFS: BuiltinDef[] = [
  {
    name: 'concat',
    arity: 2,
    fn: (args) => {
      const d = str('concat', args, 1);
      return strColl('concat', args, 2).join(d);
    },
  },
  { name: 'contains', arity: 2, fn: (args) => str('contains', args, 1).includes(str('contains', args, 2)) },
  { name: 'startswith', arity: 2, fn: (args) => str('startswith', args, 1).startsWith(str('startswith', args, 2)) },
  { name: 'endswith', arity: 2, fn: (args) => str('endswith', args, 1).endsWith(str('endswith', args, 2)) },
  {
    name: 'format_int',
    arity: 2,
    fn: (args) => {
      const n = num('format_int', args, 1);
      const base = num('format_int', args, 2);
      if (![2, 8, 10, 16].includes(Number(base))) throw new BuiltinError('eval_type_error', 'format_int: operand 2 must be one of {2, 8, 10, 16}');
      // OPA truncates toward zero before formatting.
      const i = typeof n === 'bigint' ? n : BigInt(Math.trunc(n));
      return i.toString(Number(base));
    },
  },
  {
    name: 'indexof',
    arity: 2,
    fn: (args) => {
      const s = str('indexof', args, 1);
      const sub = str('indexof', args, 2);
      if (sub === '') builtinError('indexof', 'empty search character');
      return runeIndex(s, sub);
    },
  },
  {
    name: 'indexof_n',
    arity: 2,
    fn: (args) => {
      const s = [...str('indexof_n', args, 1)];
      const sub = [...str('indexof_n', args, 2)];
      if (sub.length === 0) builtinError('indexof_n', 'empty search character');
      const out: Value[] = [];
      for (let i = 0; i + sub.length <= s.length; i++) {
        let ok = true;
        for (let j = 0; j < sub.length && ok; j++) ok = s[i + j] === sub[j];
        if (ok) out.push(i);
      }
      return out;
    },
  },
  { name: 'lower', arity: 1, fn: (args) => cachedCase(lowerCache, str('lower', args, 1), (c) => c.toLowerCase(), true) },
  { name: 'upper', arity: 1, fn: (args) => cachedCase(upperCache, str('upper', args, 1), (c) => c.toUpperCase(), false) },
  {
    name: 'replace',
    arity: 3,
    fn: (args) => {
      const s = str('replace', args, 1);
      const old = str('replace', args, 2);
      const nw = str('replace', args, 3);
      return replaceMany(s, [[old, nw]]);
    },
  },
  {
    name: 'split',
    arity: 2,
    fn: (args) => {
      const s = str('split', args, 1);
      const d = str('split', args, 2);
      // Go splits on code points for an empty separator; JS would split UTF-16 units.
      return d === '' ? [...s] : s.split(d);
    },
  },
  {
    name: 'strings.replace_n',
    arity: 2,
    fn: (args) => {
      const n = 'strings.replace_n';
      const patterns = obj(n, args, 1);
      const s = str(n, args, 2);
      const pairs: [string, string][] = patterns.sorted().map(([k, v]) => {
        if (typeof k !== 'string') typeErrorLabel(n, 1, 'object with string keys', `object with ${k === null ? 'null' : typeof k} keys`);
        if (typeof v !== 'string') typeErrorLabel(n, 1, 'object with string values', 'object with non-string values');
        return [k, v];
      });
      return replaceMany(s, pairs);
    },
  },
  { name: 'strings.reverse', arity: 1, fn: (args) => [...str('strings.reverse', args, 1)].reverse().join('') },
  {
    name: 'strings.any_prefix_match',
    arity: 2,
    fn: (args) => {
      const ss = stringsOrColl('strings.any_prefix_match', args, 1);
      const ps = stringsOrColl('strings.any_prefix_match', args, 2);
      return ss.some((s) => ps.some((p) => s.startsWith(p)));
    },
  },
  {
    name: 'strings.any_suffix_match',
    arity: 2,
    fn: (args) => {
      const ss = stringsOrColl('strings.any_suffix_match', args, 1);
      const ps = stringsOrColl('strings.any_suffix_match', args, 2);
      return ss.some((s) => ps.some((p) => s.endsWith(p)));
    },
  },
  {
    name: 'strings.count',
    arity: 2,
    fn: (args) => {
      const s = str('strings.count', args, 1);
      const sub = str('strings.count', args, 2);
      if (sub === '') return [...s].length + 1;
      return s.split(sub).length - 1;
    },
  },
  {
    name: 'substring',
    arity: 3,
    fn: (args) => {
      const s = [...str('substring', args, 1)];
      const start = smallInt('substring', args, 2);
      const len = smallInt('substring', args, 3);
      if (start < 0) builtinError('substring', 'negative offset');
      if (start >= s.length) return '';
      return (len < 0 ? s.slice(start) : s.slice(start, start + len)).join('');
    },
  },
  { name: 'trim', arity: 2, fn: (args) => { const c = str('trim', args, 2); return trimRight(trimLeft(str('trim', args, 1), c), c); } },
  { name: 'trim_left', arity: 2, fn: (args) => trimLeft(str('trim_left', args, 1), str('trim_left', args, 2)) },
  { name: 'trim_right', arity: 2, fn: (args) => trimRight(str('trim_right', args, 1), str('trim_right', args, 2)) },
  {
    name: 'trim_prefix',
    arity: 2,
    fn: (args) => {
      const s = str('trim_prefix', args, 1);
      const p = str('trim_prefix', args, 2);
      return s.startsWith(p) ? s.slice(p.length) : s;
    },
  },
  {
    name: 'trim_suffix',
    arity: 2,
    fn: (args) => {
      const s = str('trim_suffix', args, 1);
      const p = str('trim_suffix', args, 2);
      return p !== '' && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
    },
  },
  // Go's unicode.IsSpace set; JS trim() also strips U+FEFF, which Go keeps.
  { name: 'trim_space', arity: 1, fn: (args) => str('trim_space', args, 1).replace(/^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/gu, '') },
];

