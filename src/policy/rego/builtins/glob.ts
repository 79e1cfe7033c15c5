// glob.match and glob.quote_meta. OPA uses gobwas/glob; its syntax (`*` and `?` stop at the
// delimiters, `**` crosses them, `[..]`/`[!..]` classes, `{a,b}` alternatives that may nest,
// `\` escapes) is small enough to translate to a JS RegExp by hand, which is cached.
import type { BuiltinDef } from './types.js';
import { typeName, type Value } from '../value.js';
import { builtinError, oneOf, str, typeError, typeErrorLabel } from './operands.js';

function reEscape(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

/** Translate a gobwas/glob pattern to a JS regex source anchored at both ends. */
export function globToRegex(pattern: string, delimiters: string[]): string {
  const cps = [...pattern];
  const notDelim = delimiters.length === 0 ? '[\\s\\S]' : `[^${delimiters.map(reEscape).join('')}]`;
  let i = 0;
  let braces = 0;
  let out = '';
  while (i < cps.length) {
    const c = cps[i]!;
    if (c === '\\') {
      if (i + 1 >= cps.length) throw new Error('unexpected end of input');
      out += reEscape(cps[i + 1]!);
      i += 2;
      continue;
    }
    if (c === '*') {
      if (cps[i + 1] === '*') {
        out += '[\\s\\S]*';
        i += 2;
      } else {
        out += `${notDelim}*`;
        i++;
      }
      continue;
    }
    if (c === '?') {
      out += notDelim;
      i++;
      continue;
    }
    if (c === '[') {
      const close = cps.indexOf(']', i + 1);
      if (close < 0) throw new Error('unexpected end of input');
      let body = cps.slice(i + 1, close);
      const neg = body[0] === '!';
      if (neg) body = body.slice(1);
      let cls = '';
      for (let k = 0; k < body.length; k++) {
        if (body[k + 1] === '-' && k + 2 < body.length) {
          cls += `${reEscape(body[k]!)}-${reEscape(body[k + 2]!)}`;
          k += 2;
        } else cls += reEscape(body[k]!);
      }
      out += neg ? `[^${cls}]` : `[${cls}]`;
      i = close + 1;
      continue;
    }
    if (c === '{') {
      braces++;
      out += '(?:';
      i++;
      continue;
    }
    if (c === '}' && braces > 0) {
      braces--;
      out += ')';
      i++;
      continue;
    }
    if (c === ',' && braces > 0) {
      out += '|';
      i++;
      continue;
    }
    out += reEscape(c);
    i++;
  }
  if (braces > 0) throw new Error('unexpected end of input');
  return `^${out}$`;
}

const CACHE = new Map<string, RegExp | Error>();

function compileGlob(pattern: string, delimiters: string[]): RegExp | Error {
  const key = `${pattern}\u0000${delimiters.join('\u0000')}`;
  let hit = CACHE.get(key);
  if (!hit) {
    try {
      hit = new RegExp(globToRegex(pattern, delimiters), 'u');
    } catch (e) {
      hit = e as Error;
    }
    if (CACHE.size >= 1000) CACHE.clear();
    CACHE.set(key, hit);
  }
  return hit;
}

/** glob builtins. */
export const DEFS: BuiltinDef[] = [
  {
    name: 'glob.match',
    arity: 3,
    fn: (args) => {
      const n = 'glob.match';
      const pattern = str(n, args, 1);
      const d = args[1]!;
      let delimiters: string[];
      // null means "no delimiters"; an empty array means OPA's default ".".
      if (d === null) delimiters = [];
      else if (Array.isArray(d)) {
        delimiters = d.map((e: Value) => {
          if (typeof e !== 'string') typeErrorLabel(n, 2, 'array of strings', `array containing ${typeName(e)}`);
          return [...e][0] ?? '';
        }).filter((x) => x !== '');
        if (delimiters.length === 0) delimiters = ['.'];
      } else return typeError(n, 2, oneOf('array', 'null'), d);
      const s = str(n, args, 3);
      const re = compileGlob(pattern, delimiters);
      if (re instanceof Error) builtinError(n, re.message);
      return re.test(s);
    },
  },
  {
    name: 'glob.quote_meta',
    arity: 1,
    fn: (args) => [...str('glob.quote_meta', args, 1)].map((c) => ('*?\\[]{}'.includes(c) ? `\\${c}` : c)).join(''),
  },
];
