// Regular-expression builtins. OPA uses Go's RE2 syntax; JS RegExp differs in places, so
// patterns are translated (named groups `(?P<n>`, leading inline flags, `\A` `\z`, `\Q..\E`,
// POSIX classes `[[:alpha:]]`, `\pL`, escaped punctuation that unicode-mode JS rejects) and
// compiled with the `u` flag so `.` and classes work on code points like Go. Go's "all matches"
// rules (no empty match right after a previous match) are reproduced in findAll. Compiled
// patterns are cached process-wide because policies reuse the same few patterns constantly.
import type { BuiltinDef } from './types.js';
import type { Value } from '../value.js';
import { builtinError, smallInt, str } from './operands.js';

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));

class RegexSyntaxError extends Error {}

function escapeLiteral(s: string): string {
  return [...s].map((c) => (SYNTAX.has(c) || c === '-' ? `\\${c}` : c)).join('');
}

interface Scope {
  i: boolean;
  s: boolean;
  m: boolean;
}

function caseBoth(c: string): string {
  const lo = c.toLowerCase();
  const up = c.toUpperCase();
  return lo !== up && lo.length === 1 && up.length === 1 ? `${lo}${up}` : '';
}

/**
 * Translate an RE2 pattern into JS source and flags; throws RegexSyntaxError with Go's wording.
 * Flags set at the very start become JS flags; flags changed later (`(?i:x)`, `a(?s).`) are
 * emulated, because Node 20's RegExp has no inline modifiers.
 */
export function translateRE2(pattern: string): { source: string; flags: string } {
  const js: Scope = { i: false, s: false, m: false };
  let p = pattern;
  const lead = /^\(\?([imsU]+)\)/.exec(p);
  if (lead) {
    for (const f of lead[1]!) if (f === 'i' || f === 'm' || f === 's') js[f] = true;
    p = p.slice(lead[0].length);
  }
  let scope: Scope = { ...js };
  const stack: Scope[] = [];
  let out = '';
  let inClass = false;
  let classStart = -1;
  const emulateI = (): boolean => scope.i && !js.i;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      const n = p[i + 1];
      if (n === undefined) throw new RegexSyntaxError('trailing backslash at end of expression: ``');
      if (n === 'Q') {
        const end = p.indexOf('\\E', i + 2);
        const lit = end < 0 ? p.slice(i + 2) : p.slice(i + 2, end);
        out += escapeLiteral(lit);
        i = end < 0 ? p.length : end + 1;
        continue;
      }
      // RE2 has no backreferences and rejects escapes it does not know.
      if (/[1-9]/.test(n) || /[ceghijkmoqruyEFGHIJKLMNORTUVXYZ]/.test(n)) throw new RegexSyntaxError(`invalid escape sequence: \`\\${n}\``);
      if (!inClass && n === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && n === 'z') out += '(?![\\s\\S])';
      else if (n === 's') out += inClass ? '\\t\\n\\f\\r ' : '[\\t\\n\\f\\r ]';
      else if (n === 'S') out += inClass ? '\\S' : '[^\\t\\n\\f\\r ]';
      else if ((n === 'p' || n === 'P') && p[i + 2] !== '{') {
        out += `\\${n}{${p[i + 2] ?? ''}}`;
        i++;
      } else if ((n === 'p' || n === 'P') && p[i + 2] === '{') {
        // Go names scripts bare (\p{Greek}, negated \p{^Greek}); JS wants \p{Script=Greek}.
        const close = p.indexOf('}', i + 3);
        if (close < 0) throw new RegexSyntaxError(`invalid character class range: \`${p.slice(i)}\``);
        let cls = p.slice(i + 3, close);
        let neg = n === 'P';
        if (cls.startsWith('^')) {
          neg = !neg;
          cls = cls.slice(1);
        }
        out += `\\${neg ? 'P' : 'p'}{${/^[A-Z][a-z]?$/.test(cls) || cls === 'Any' ? cls : `Script=${cls}`}}`;
        i = close - 1;
      } else if (/[A-Za-z0-9]/.test(n) || SYNTAX.has(n) || (inClass && n === '-')) out += `\\${n}`;
      else out += n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === '[' && p[i + 1] === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(i));
        if (m && POSIX[m[2]!]) {
          if (m[1]) throw new RegexSyntaxError(`invalid character class range: \`${m[0]}\``);
          out += POSIX[m[2]!];
          i += m[0].length - 1;
          continue;
        }
      }
      // A ']' right after '[' or '[^' is a literal in Go.
      if (c === ']' && i > classStart + 1 && !(i === classStart + 2 && p[classStart + 1] === '^')) {
        inClass = false;
        out += ']';
        continue;
      }
      if (c === ']' || c === '[' || c === '/' || c === '{' || c === '}' || c === '(' || c === ')' || c === '|') {
        out += `\\${c}`;
        continue;
      }
      if (emulateI() && caseBoth(c)) {
        if (p[i + 1] === '-' && p[i + 2] && p[i + 2] !== ']' && caseBoth(p[i + 2]!)) {
          const hi = p[i + 2]!;
          out += `${c.toLowerCase()}-${hi.toLowerCase()}${c.toUpperCase()}-${hi.toUpperCase()}`;
          i += 2;
        } else out += caseBoth(c);
        continue;
      }
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      classStart = i;
      out += '[';
      continue;
    }
    if (c === '(') {
      stack.push({ ...scope });
      const rest = p.slice(i);
      if (rest.startsWith('(?P<')) {
        out += '(?<';
        i += 3;
        continue;
      }
      if (/^\(\?(=|!|<=|<!)/.test(rest)) throw new RegexSyntaxError(`invalid or unsupported Perl syntax: \`${rest.slice(0, 3)}\``);
      const fl = /^\(\?([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
      if (fl && (fl[1] || fl[2] !== undefined)) {
        const next = { ...scope };
        for (const f of fl[1]!) if (f !== 'U') next[f as keyof Scope] = true;
        for (const f of fl[2] ?? '') if (f !== 'U') next[f as keyof Scope] = false;
        if ((js.i && !next.i) || (js.m && !next.m)) throw new RegexSyntaxError(`invalid or unsupported Perl syntax: \`${fl[0]}\``);
        if (fl[3] === ')') {
          // `(?i)` mid-pattern changes the rest of the enclosing group.
          stack.pop();
          scope = next;
        } else {
          scope = next;
          out += '(?:';
        }
        i += fl[0].length - 1;
        continue;
      }
      out += c;
      continue;
    }
    if (c === ')') {
      const prev = stack.pop();
      if (!prev) throw new RegexSyntaxError(`unexpected ): \`${pattern}\``);
      scope = prev;
      out += c;
      continue;
    }
    if (c === '.') {
      out += scope.s === js.s ? '.' : scope.s ? '[\\s\\S]' : '[^\\n]';
      continue;
    }
    if ((c === '^' || c === '$') && scope.m && !js.m) {
      out += c === '^' ? '(?:^|(?<=\\n))' : '(?:$|(?=\\n))';
      continue;
    }
    if (c === '/') {
      out += '\\/';
      continue;
    }
    if (c === ']' || c === '}') {
      out += `\\${c}`;
      continue;
    }
    if (c === '{' && !/^\{\d+(,\d*)?\}/.test(p.slice(i))) {
      out += '\\{';
      continue;
    }
    if (emulateI() && caseBoth(c)) {
      out += `[${caseBoth(c)}]`;
      continue;
    }
    out += c;
  }
  if (inClass) throw new RegexSyntaxError(`missing closing ]: \`${p.slice(classStart)}\``);
  if (stack.length > 0) throw new RegexSyntaxError(`missing closing ): \`${pattern}\``);
  const flags = `u${js.i ? 'i' : ''}${js.m ? 'm' : ''}${js.s ? 's' : ''}`;
  return { source: out, flags };
}

const CACHE = new Map<string, RegExp | Error>();
const CACHE_MAX = 1000;

/** Compile (cached) an RE2 pattern; returns an Error with Go's message when it is invalid. */
export function compileRE2(pattern: string): RegExp | Error {
  let hit = CACHE.get(pattern);
  if (hit) return hit;
  try {
    const { source, flags } = translateRE2(pattern);
    hit = new RegExp(source, `${flags}g`);
  } catch (e) {
    const msg = e instanceof RegexSyntaxError ? e.message : `invalid or unsupported Perl syntax: ${(e as Error).message}`;
    hit = new Error(`error parsing regexp: ${msg}`);
  }
  if (CACHE.size >= CACHE_MAX) CACHE.clear();
  CACHE.set(pattern, hit);
  return hit;
}

function mustCompile(name: string, pattern: string): RegExp {
  const re = compileRE2(pattern);
  if (re instanceof Error) builtinError(name, re.message);
  return re;
}

/** Go's FindAll: up to n (n < 0: all) matches, skipping an empty match that abuts the previous one. */
export function findAll(re: RegExp, s: string, n: number): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  let pos = 0;
  let prevEnd = -1;
  while ((n < 0 || out.length < n) && pos <= s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    let accept = true;
    if (end === start) {
      if (start === prevEnd) accept = false;
      const cp = s.codePointAt(start);
      pos = start + (cp === undefined ? 1 : cp > 0xffff ? 2 : 1);
    } else pos = end;
    prevEnd = end;
    if (accept) out.push(m);
  }
  return out;
}

/** Whether an RE2 pattern matches anywhere in s. */
export function matches(re: RegExp, s: string): boolean {
  re.lastIndex = 0;
  return re.test(s);
}

// Go's Regexp.Expand template syntax: $1, $name, ${name}; the name is the longest word run.
function expand(template: string, m: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '$') {
      out += c;
      continue;
    }
    const rest = template.slice(i + 1);
    if (rest.startsWith('$')) {
      out += '$';
      i++;
      continue;
    }
    const braced = /^\{([A-Za-z0-9_]+)\}/.exec(rest);
    const bare = braced ? undefined : /^[A-Za-z0-9_]+/.exec(rest);
    const name = braced ? braced[1]! : bare?.[0];
    if (name === undefined) {
      out += '$';
      continue;
    }
    i += (braced ? braced[0] : bare![0]).length;
    if (/^\d+$/.test(name)) out += m[Number(name)] ?? '';
    else out += m.groups?.[name] ?? '';
  }
  return out;
}

function templateRegex(name: string, template: string, open: string, close: string): RegExp {
  // Parts between the delimiters are regexes, the rest is literal text; braces nest.
  let src = '';
  let i = 0;
  while (i < template.length) {
    const s = template.indexOf(open, i);
    if (s < 0) {
      src += escapeLiteral(template.slice(i));
      break;
    }
    src += escapeLiteral(template.slice(i, s));
    let level = 1;
    let j = s + open.length;
    for (; j < template.length && level > 0; j++) {
      if (template.startsWith(open, j)) level++;
      else if (template.startsWith(close, j)) level--;
    }
    if (level !== 0) builtinError(name, `unbalanced braces in ${JSON.stringify(template)}`);
    const inner = template.slice(s + open.length, j - close.length);
    const re = compileRE2(inner);
    if (re instanceof Error) builtinError(name, re.message);
    src += `(?:${re.source})`;
    i = j;
  }
  try {
    return new RegExp(`^${src}$`, 'u');
  } catch (e) {
    return builtinError(name, `error parsing regexp: ${(e as Error).message}`);
  }
}

/** Regex builtins. */
export const DEFS: BuiltinDef[] = [
  ...['regex.match', 're_match'].map(
    (name): BuiltinDef => ({
      name,
      arity: 2,
      fn: (args) => matches(mustCompile(name, str(name, args, 1)), str(name, args, 2)),
    }),
  ),
  {
    name: 'regex.is_valid',
    arity: 1,
    fn: ([p]) => typeof p === 'string' && !(compileRE2(p) instanceof Error),
  },
  {
    name: 'regex.split',
    arity: 2,
    fn: (args) => {
      const re = mustCompile('regex.split', str('regex.split', args, 1));
      const s = str('regex.split', args, 2);
      if (s === '') return [''];
      const out: Value[] = [];
      let beg = 0;
      let end = 0;
      for (const m of findAll(re, s, -1)) {
        end = m.index;
        if (m.index + m[0].length !== 0) out.push(s.slice(beg, end));
        beg = m.index + m[0].length;
      }
      if (end !== s.length) out.push(s.slice(beg));
      return out;
    },
  },
  {
    name: 'regex.find_n',
    arity: 3,
    fn: (args) => {
      const re = mustCompile('regex.find_n', str('regex.find_n', args, 1));
      return findAll(re, str('regex.find_n', args, 2), smallInt('regex.find_n', args, 3)).map((m) => m[0]);
    },
  },
  {
    name: 'regex.find_all_string_submatch_n',
    arity: 3,
    fn: (args) => {
      const n = 'regex.find_all_string_submatch_n';
      const re = mustCompile(n, str(n, args, 1));
      return findAll(re, str(n, args, 2), smallInt(n, args, 3)).map((m) => [...m].map((g) => g ?? ''));
    },
  },
  {
    name: 'regex.replace',
    arity: 3,
    fn: (args) => {
      const s = str('regex.replace', args, 1);
      const re = mustCompile('regex.replace', str('regex.replace', args, 2));
      const tpl = str('regex.replace', args, 3);
      let out = '';
      let last = 0;
      for (const m of findAll(re, s, -1)) {
        out += s.slice(last, m.index) + expand(tpl, m);
        last = m.index + m[0].length;
      }
      return out + s.slice(last);
    },
  },
  {
    name: 'regex.template_match',
    arity: 4,
    fn: (args) => {
      const n = 'regex.template_match';
      const [open, close] = [str(n, args, 3), str(n, args, 4)];
      if ([...open].length !== 1) builtinError(n, `start delimiter has to be exactly one character long but is ${[...open].length} long`);
      if ([...close].length !== 1) builtinError(n, `end delimiter has to be exactly one character long but is ${[...close].length} long`);
      const re = templateRegex(n, str(n, args, 1), open, close);
      return re.test(str(n, args, 2));
    },
  },
];
