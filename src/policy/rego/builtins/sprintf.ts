// sprintf, a port of the parts of Go's fmt that OPA's sprintf reaches. Hand-written because JS
// has no printf with Go's verbs and, more importantly, OPA's quirks must be reproduced: OPA hands
// Go integers (int / *big.Int) for integral numbers, float64 for the rest, Go strings for
// strings, and the Rego text of every other value as a Go *string* (so `%t` of `true` prints
// "%!t(string=true)" and `%f` of 1 prints "%!f(int=1)", exactly as OPA does).
import type { BuiltinDef } from './types.js';
import { RObject, RSet, numberKey, type Value } from '../value.js';
import { arr, str } from './operands.js';

type GoArg = { kind: 'int'; v: bigint; big: boolean } | { kind: 'float'; v: number } | { kind: 'string'; v: string };

/** Go's strconv.Quote: a double-quoted string with Go escapes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if ((c >= 0x80 && c < 0xa0) || c === 0xad || (c >= 0xd800 && c < 0xe000)) out += c > 0xffff ? `\\U${c.toString(16).padStart(8, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A value's Rego source text, as OPA's term String() prints it (sets as `{..}`, empty set `set()`). */
export function regoText(v: Value): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return String(v);
    case 'number':
    case 'bigint':
      return numberKey(v);
    case 'string':
      return goQuote(v);
  }
  if (Array.isArray(v)) return `[${v.map(regoText).join(', ')}]`;
  if (v instanceof RSet) return v.size === 0 ? 'set()' : `{${v.sorted().map(regoText).join(', ')}}`;
  return `{${(v as RObject)
    .sorted()
    .map(([k, x]) => `${regoText(k)}: ${regoText(x)}`)
    .join(', ')}}`;
}

function toGo(v: Value): GoArg {
  if (typeof v === 'number' || typeof v === 'bigint') {
    // A double beyond 2^53 came from an exponent literal or float maths: OPA hands Go a float64.
    if (typeof v === 'bigint' || Number.isSafeInteger(v)) {
      const b = BigInt(v);
      return { kind: 'int', v: b, big: b > 9223372036854775807n || b < -9223372036854775808n };
    }
    return { kind: 'float', v };
  }
  if (typeof v === 'string') return { kind: 'string', v };
  return { kind: 'string', v: regoText(v) };
}

interface Spec {
  minus: boolean;
  plus: boolean;
  space: boolean;
  zero: boolean;
  sharp: boolean;
  width?: number;
  prec?: number;
}

function pad(s: string, sp: Spec, numeric: boolean): string {
  const w = sp.width ?? 0;
  const len = [...s].length;
  if (len >= w) return s;
  if (sp.minus) return s + ' '.repeat(w - len);
  if (sp.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : '';
    return sign + '0'.repeat(w - len) + s.slice(sign.length);
  }
  return ' '.repeat(w - len) + s;
}

function signed(neg: boolean, body: string, sp: Spec): string {
  return (neg ? '-' : sp.plus ? '+' : sp.space ? ' ' : '') + body;
}

// Go prints U+FFFD for integers that are not valid code points.
function rune(v: bigint): string {
  return v < 0n || v > 0x10ffffn || (v >= 0xd800n && v <= 0xdfffn) ? '\ufffd' : String.fromCodePoint(Number(v));
}

function fmtInt(v: bigint, big: boolean, verb: string, sp: Spec): string | undefined {
  // Go's int has no %s (OPA's `sprintf("%s", [1])` prints "%!s(int=1)"); *big.Int formats
  // %s and %v in decimal but knows no %c or %q.
  if (verb === 's' && !big) return undefined;
  if ((verb === 'c' || verb === 'q' || verb === 'U') && big) return undefined;
  const neg = v < 0n;
  const a = neg ? -v : v;
  let digits: string;
  let prefix = '';
  switch (verb) {
    case 'd':
    case 'v':
    case 's':
      digits = a.toString(10);
      break;
    case 'b':
      digits = a.toString(2);
      if (sp.sharp) prefix = '0b';
      break;
    case 'o':
      digits = a.toString(8);
      if (sp.sharp) prefix = '0';
      break;
    case 'O':
      digits = a.toString(8);
      prefix = '0o';
      break;
    case 'x':
      digits = a.toString(16);
      if (sp.sharp) prefix = '0x';
      break;
    case 'X':
      digits = a.toString(16).toUpperCase();
      if (sp.sharp) prefix = '0X';
      break;
    case 'c':
      return pad(rune(v), sp, false);
    case 'q':
      return pad(`'${rune(v)}'`, sp, false);
    case 'U':
      return pad(`U+${a.toString(16).toUpperCase().padStart(4, '0')}`, sp, false);
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
      return undefined;
    default:
      return undefined;
  }
  if (sp.prec !== undefined) {
    digits = digits.padStart(sp.prec, '0');
    if (sp.prec === 0 && a === 0n) digits = '';
    return pad(signed(neg, prefix + digits, sp), { ...sp, zero: false }, true);
  }
  return pad(signed(neg, prefix + digits, sp), sp, true);
}

function expForm(mant: string, exp: number, upper: boolean): string {
  const e = `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return `${mant}${upper ? 'E' : 'e'}${e}`;
}

// %e with a given precision, Go style (exponent at least two digits).
function fmtE(a: number, prec: number, upper: boolean): string {
  if (a === 0) return expForm(prec > 0 ? `0.${'0'.repeat(prec)}` : '0', 0, upper);
  const { digits, exp } = sigDigits(a, prec + 1);
  return expForm(prec > 0 ? `${digits[0]}.${digits.slice(1)}` : digits, exp, upper);
}

// A non-negative finite double exactly, as num / den.
function exact(a: number): [bigint, bigint] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const bits = view.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  let exp = -1074;
  if (expBits !== 0) {
    mant |= 1n << 52n;
    exp = expBits - 1075;
  }
  return exp >= 0 ? [mant << BigInt(exp), 1n] : [mant, 1n << BigInt(-exp)];
}

// num / den rounded to an integer, exact ties to even, as Go's strconv does. JS's toFixed and
// toExponential round exact ties up (0.125 -> "0.13", 2.5 -> "3e+0"), hence the hand-rolled maths.
function roundHalfEven(num: bigint, den: bigint): bigint {
  let q = num / den;
  const twice = (num % den) * 2n;
  if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  return q;
}

function fmtF(a: number, prec: number): string {
  const [n, d] = exact(a);
  const q = roundHalfEven(n * 10n ** BigInt(prec), d);
  const digits = q.toString().padStart(prec + 1, '0');
  return prec === 0 ? digits : `${digits.slice(0, -prec)}.${digits.slice(-prec)}`;
}

// `sig` significant digits of a (> 0) and the decimal exponent of the first one.
function sigDigits(a: number, sig: number): { digits: string; exp: number } {
  const [n, d] = exact(a);
  let e = Number(a.toExponential().split('e')[1]);
  for (;;) {
    const shift = sig - 1 - e;
    const q = shift >= 0 ? roundHalfEven(n * 10n ** BigInt(shift), d) : roundHalfEven(n, d * 10n ** BigInt(-shift));
    const digits = q.toString();
    if (digits.length > sig) e += 1;
    else return { digits, exp: e };
  }
}

// Go's %g: shortest digits when no precision, %e form when the exponent is < -4 or >= the precision.
function fmtG(a: number, prec: number | undefined, upper: boolean, sharp: boolean): string {
  if (a === 0) return '0';
  let digits: string;
  let exp: number;
  if (prec === undefined) {
    const [m, e] = a.toExponential().split('e') as [string, string];
    digits = m.replace('.', '');
    exp = Number(e);
  } else {
    ({ digits, exp } = sigDigits(a, prec === 0 ? 1 : prec));
    if (!sharp) digits = digits.replace(/0+$/, '') || '0';
  }
  let eprec = prec === undefined ? 6 : prec === 0 ? 1 : prec;
  if (prec !== undefined && eprec > digits.length && digits.length >= exp + 1) eprec = digits.length;
  if (exp < -4 || exp >= eprec) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return expForm(mant, exp, upper);
  }
  if (exp < 0) return `0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return digits + '0'.repeat(exp + 1 - digits.length);
  return `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

function fmtFloat(v: number, verb: string, sp: Spec): string | undefined {
  if (!Number.isFinite(v)) return pad(Number.isNaN(v) ? 'NaN' : signed(v < 0, 'Inf', sp), sp, false);
  const neg = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  let body: string;
  switch (verb) {
    case 'e':
    case 'E':
      body = fmtE(a, sp.prec ?? 6, verb === 'E');
      break;
    case 'f':
    case 'F':
      body = fmtF(a, sp.prec ?? 6);
      break;
    case 'g':
    case 'G':
    case 'v':
      body = fmtG(a, sp.prec, verb === 'G', sp.sharp);
      break;
    default:
      return undefined;
  }
  return pad(signed(neg, body, sp), sp, true);
}

function hexOf(s: string, upper: boolean, sp: Spec): string {
  const h = Buffer.from(s, 'utf8').toString('hex');
  const hex = sp.space ? h.match(/../g)?.join(' ') ?? '' : h;
  return upper ? hex.toUpperCase() : hex;
}

function fmtString(v: string, verb: string, sp: Spec): string | undefined {
  const cut = sp.prec !== undefined ? [...v].slice(0, sp.prec).join('') : v;
  switch (verb) {
    case 's':
    case 'v':
      return pad(cut, sp, false);
    case 'q':
      return pad(goQuote(cut), sp, false);
    case 'x':
      return pad(hexOf(cut, false, sp), sp, false);
    case 'X':
      return pad(hexOf(cut, true, sp), sp, false);
    default:
      return undefined;
  }
}

function goTypeName(a: GoArg): string {
  return a.kind === 'int' ? (a.big ? '*big.Int' : 'int') : a.kind === 'float' ? 'float64' : 'string';
}

function badVerb(verb: string, a: GoArg): string {
  // big.Int formats unknown verbs itself, without the pointer star.
  if (a.kind === 'int' && a.big) return `%!${verb}(big.Int=${a.v})`;
  const text = a.kind === 'float' ? fmtG(Math.abs(a.v), undefined, false, false).replace(/^/, a.v < 0 ? '-' : '') : String(a.v);
  return `%!${verb}(${goTypeName(a)}=${text})`;
}

function formatOne(a: GoArg, verb: string, sp: Spec): string {
  let r: string | undefined;
  if (a.kind === 'int') r = fmtInt(a.v, a.big, verb, sp);
  else if (a.kind === 'float') r = fmtFloat(a.v, verb, sp);
  else r = fmtString(a.v, verb, sp);
  return r ?? badVerb(verb, a);
}

/**
 * A format whose verbs are all bare %s, %v or %d (plus %%), split into its literal texts and
 * verbs; null for any other format. Cached: policies format the same few messages repeatedly.
 */
type Simple = { texts: string[]; verbs: string[] } | null;
const simpleCache = new Map<string, Simple>();
function simpleFormat(format: string): Simple {
  let r = simpleCache.get(format);
  if (r !== undefined) return r;
  r = { texts: [], verbs: [] };
  let text = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') {
      text += c;
      continue;
    }
    const v = format[++i];
    if (v === '%') text += '%';
    else if (v === 's' || v === 'v' || v === 'd') {
      r.texts.push(text);
      r.verbs.push(v);
      text = '';
    } else {
      r = null;
      break;
    }
  }
  if (r) r.texts.push(text);
  if (simpleCache.size >= 1024) simpleCache.clear();
  simpleCache.set(format, r);
  return r;
}

/** The common case: strings for %s/%v and safe integers for %d/%v, one argument per verb. */
function simpleSprintf(f: NonNullable<Simple>, values: Value[]): string | undefined {
  if (values.length !== f.verbs.length) return undefined;
  let out = f.texts[0]!;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const verb = f.verbs[i]!;
    if (typeof v === 'string' && verb !== 'd') out += v;
    else if (typeof v === 'number' && Number.isSafeInteger(v) && verb !== 's') out += String(v);
    else return undefined;
    out += f.texts[i + 1]!;
  }
  return out;
}

/** Format like Go's fmt.Sprintf over Rego values, as OPA's sprintf does. */
export function sprintf(format: string, values: Value[]): string {
  const simple = simpleFormat(format);
  if (simple) {
    const r = simpleSprintf(simple, values);
    if (r !== undefined) return r;
  }
  const args = values.map(toGo);
  let out = '';
  let argi = 0;
  let reordered = false;
  const cps = [...format];
  let i = 0;
  while (i < cps.length) {
    const c = cps[i]!;
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    i++;
    const sp: Spec = { minus: false, plus: false, space: false, zero: false, sharp: false };
    for (; i < cps.length; i++) {
      const f = cps[i];
      if (f === '-') sp.minus = true;
      else if (f === '+') sp.plus = true;
      else if (f === ' ') sp.space = true;
      else if (f === '0') sp.zero = !sp.minus;
      else if (f === '#') sp.sharp = true;
      else break;
    }
    const argIndex = (): void => {
      const m = /^\[(\d+)\]/.exec(cps.slice(i, i + 12).join(''));
      if (m) {
        argi = Number(m[1]) - 1;
        reordered = true;
        i += m[0].length;
      }
    };
    const number = (): number | undefined => {
      if (cps[i] === '*') {
        i++;
        const a = args[argi++];
        return a && a.kind === 'int' ? Number(a.v) : undefined;
      }
      let s = '';
      while (i < cps.length && /[0-9]/.test(cps[i]!)) s += cps[i++];
      return s === '' ? undefined : Number(s);
    };
    argIndex();
    sp.width = number();
    if (sp.width !== undefined && sp.width < 0) {
      sp.minus = true;
      sp.width = -sp.width;
    }
    if (cps[i] === '.') {
      i++;
      argIndex();
      sp.prec = number() ?? 0;
    }
    argIndex();
    if (i >= cps.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = cps[i++]!;
    if (verb === '%') {
      out += '%';
      continue;
    }
    const a = args[argi];
    if (a === undefined) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    argi++;
    out += formatOne(a, verb, sp);
  }
  if (!reordered && argi < args.length) {
    out += `%!(EXTRA ${args
      .slice(argi)
      .map((a) => `${goTypeName(a)}=${a.kind === 'float' ? fmtG(Math.abs(a.v), undefined, false, false).replace(/^/, a.v < 0 ? '-' : '') : a.v}`)
      .join(', ')})`;
  }
  return out;
}

/** sprintf. */
export const DEFS: BuiltinDef[] = [
  {
    name: 'sprintf',
    arity: 2,
    fn: (args) => sprintf(str('sprintf', args, 1), arr('sprintf', args, 2)),
  },
];
