// Arithmetic, comparison and membership builtins (the infix operators resolve to these).
// Hand-written: Rego numbers are arbitrary precision in OPA; here integers stay exact by moving
// to bigint beyond 2^53 while non-integers use doubles, which matches OPA on every case that
// does not depend on > 53-bit fractional precision.
import type { BuiltinDef } from './types.js';
import { RObject, RSet, compare, equal, innerKey, isNumber, type RNumber, type Value } from '../value.js';
import { bigOf, builtinError, decimalOf, fromBig, int, isInt, normNum, num, oneOf, set, typeError } from './operands.js';

type IntOp = (a: bigint, b: bigint) => bigint;
type FloatOp = (a: number, b: number) => number;

function arith(name: string, args: Value[], iop: IntOp, fop: FloatOp): RNumber {
  const a = num(name, args, 1);
  const b = num(name, args, 2);
  if (isInt(a) && isInt(b)) return fromBig(iop(bigOf(a), bigOf(b)));
  return normNum(fop(Number(a), Number(b)));
}

/** Exact integer or float sum of two numbers. */
export function add(a: RNumber, b: RNumber): RNumber {
  if (isInt(a) && isInt(b)) return fromBig(bigOf(a) + bigOf(b));
  return normNum(Number(a) + Number(b));
}

/** Exact integer or float product of two numbers. */
export function multiply(a: RNumber, b: RNumber): RNumber {
  if (isInt(a) && isInt(b)) return fromBig(bigOf(a) * bigOf(b));
  return normNum(Number(a) * Number(b));
}

function divide(a: RNumber, b: RNumber): RNumber {
  if (Number(b) === 0) builtinError('div', 'divide by zero');
  // Exact when the quotient is an integer (decimal operands, as OPA reads them), so 1e109 / 1e100
  // is 1000000000 and huge integers divide without losing digits.
  const x = decimalOf(a);
  const y = decimalOf(b);
  const n = x.num * 10n ** BigInt(y.scale);
  const d = y.num * 10n ** BigInt(x.scale);
  if (n % d === 0n) return fromBig(n / d);
  return normNum(Number(a) / Number(b));
}

function setDiff(a: RSet, b: RSet): RSet {
  const m = new Map<string, Value>();
  for (const [k, v] of a.items) if (!b.items.has(k)) m.set(k, v);
  return new RSet(m);
}

/** Set intersection of two sets. */
export function setAnd(a: RSet, b: RSet): RSet {
  const m = new Map<string, Value>();
  for (const [k, v] of a.items) if (b.items.has(k)) m.set(k, v);
  return new RSet(m);
}

/** Set union of two sets. */
export function setOr(a: RSet, b: RSet): RSet {
  const m = new Map(a.items);
  for (const [k, v] of b.items) m.set(k, v);
  return new RSet(m);
}

function rounding(name: string, f: (x: number) => number) {
  return (args: Value[]): Value => {
    const n = num(name, args, 1);
    return typeof n === 'bigint' ? n : normNum(f(n));
  };
}

// Go's math.Round rounds halves away from zero; JS Math.round rounds them up.
const goRound = (x: number): number => (x < 0 ? -Math.round(-x) : Math.round(x));

// OPA has no cap and would exhaust memory; a policy engine inside a server must not.
const MAX_RANGE = 10_000_000n;

function range(name: string, a: bigint, b: bigint, step: bigint): Value[] {
  const span = (a <= b ? b - a : a - b) / step + 1n;
  if (span > MAX_RANGE) builtinError(name, `range of ${span} elements exceeds the limit of ${MAX_RANGE}`);
  const out: Value[] = [];
  if (a <= b) for (let i = a; i <= b; i += step) out.push(fromBig(i));
  else for (let i = a; i >= b; i -= step) out.push(fromBig(i));
  return out;
}

/** Membership as `x in xs` sees it: array elements, object values, set members. */
export function member(x: Value, xs: Value): boolean {
  if (Array.isArray(xs)) return xs.some((e) => equal(e, x));
  if (xs instanceof RSet) return xs.has(x);
  if (xs instanceof RObject) {
    for (const [, v] of xs.entries.values()) if (equal(v, x)) return true;
  }
  return false;
}

const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Parse a decimal number the way OPA's to_number does (integers stay exact). */
export function parseNumber(s: string): RNumber | undefined {
  if (/^[+-]?\d+$/.test(s)) return fromBig(BigInt(s));
  if (NUMBER_TEXT.test(s)) return normNum(Number(s));
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(s)) return fromBig(s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s.replace(/^\+/, '')));
  return undefined;
}

/** Arithmetic, comparison and membership builtins. */
export const DEFS: BuiltinDef[] = [
  { name: 'plus', arity: 2, fn: (args) => arith('plus', args, (a, b) => a + b, (a, b) => a + b) },
  {
    name: 'minus',
    arity: 2,
    fn: (args) => {
      const [a, b] = args as [Value, Value];
      if (isNumber(a)) {
        if (!isNumber(b)) typeError('minus', 2, 'number', b);
        return arith('minus', args, (x, y) => x - y, (x, y) => x - y);
      }
      if (a instanceof RSet) return setDiff(a, set('minus', args, 2));
      return typeError('minus', 1, oneOf('number', 'set'), a);
    },
  },
  { name: 'mul', arity: 2, fn: (args) => arith('mul', args, (a, b) => a * b, (a, b) => a * b) },
  { name: 'div', arity: 2, fn: (args) => divide(num('div', args, 1), num('div', args, 2)) },
  {
    name: 'rem',
    arity: 2,
    fn: (args) => {
      const a = num('rem', args, 1);
      const b = num('rem', args, 2);
      if (!isInt(a) || !isInt(b)) builtinError('rem', 'modulo on floating-point number');
      if (bigOf(b) === 0n) builtinError('rem', 'modulo by zero');
      return fromBig(bigOf(a) % bigOf(b));
    },
  },
  {
    name: 'abs',
    arity: 1,
    fn: (args) => {
      const n = num('abs', args, 1);
      return typeof n === 'bigint' ? fromBig(n < 0n ? -n : n) : normNum(Math.abs(n));
    },
  },
  { name: 'round', arity: 1, fn: rounding('round', goRound) },
  { name: 'ceil', arity: 1, fn: rounding('ceil', Math.ceil) },
  { name: 'floor', arity: 1, fn: rounding('floor', Math.floor) },
  {
    name: 'numbers.range',
    arity: 2,
    fn: (args) => range('numbers.range', int('numbers.range', args, 1), int('numbers.range', args, 2), 1n),
  },
  {
    name: 'numbers.range_step',
    arity: 3,
    fn: (args) => {
      const n = 'numbers.range_step';
      const a = int(n, args, 1);
      const b = int(n, args, 2);
      const step = int(n, args, 3);
      if (step <= 0n) builtinError(n, 'step must be a positive number above zero');
      return range(n, a, b, step);
    },
  },
  { name: 'equal', arity: 2, fn: ([a, b]) => equal(a!, b!) },
  { name: 'neq', arity: 2, fn: ([a, b]) => !equal(a!, b!) },
  { name: 'lt', arity: 2, fn: ([a, b]) => compare(a!, b!) < 0 },
  { name: 'lte', arity: 2, fn: ([a, b]) => compare(a!, b!) <= 0 },
  { name: 'gt', arity: 2, fn: ([a, b]) => compare(a!, b!) > 0 },
  { name: 'gte', arity: 2, fn: ([a, b]) => compare(a!, b!) >= 0 },
  { name: 'and', arity: 2, fn: (args) => setAnd(set('and', args, 1), set('and', args, 2)) },
  { name: 'or', arity: 2, fn: (args) => setOr(set('or', args, 1), set('or', args, 2)) },
  { name: 'internal.member_2', arity: 2, fn: ([x, xs]) => member(x!, xs!) },
  {
    name: 'internal.member_3',
    arity: 3,
    fn: ([k, v, xs]) => {
      if (Array.isArray(xs)) {
        if (!isNumber(k!) || !isInt(k)) return false;
        const i = Number(k);
        return i >= 0 && i < xs.length && equal(xs[i]!, v!);
      }
      if (xs instanceof RObject) {
        const got = xs.get(k!);
        return got !== undefined && equal(got, v!);
      }
      return false;
    },
  },
  {
    name: 'to_number',
    arity: 1,
    fn: ([x]) => {
      if (x === null) return 0;
      if (typeof x === 'boolean') return x ? 1 : 0;
      if (isNumber(x!)) return x;
      if (typeof x === 'string') {
        const n = parseNumber(x);
        if (n === undefined) builtinError('to_number', `strconv.ParseFloat: parsing ${JSON.stringify(x)}: invalid syntax`);
        return n;
      }
      return typeError('to_number', 1, oneOf('null', 'boolean', 'number', 'string'), x!);
    },
  },
  {
    name: 'rand.intn',
    arity: 2,
    nondeterministic: true,
    fn: (args, ctx) => {
      const n = 'rand.intn';
      const s = typeof args[0] === 'string' ? args[0] : typeError(n, 1, 'string', args[0]!);
      const bound = int(n, args, 2);
      if (bound === 0n) return 0;
      const key = `rand.intn\u0000${innerKey(s)}\u0000${bound}`;
      const hit = ctx.cache.get(key);
      if (hit !== undefined) return hit as Value;
      const abs = bound < 0n ? -bound : bound;
      // Within one query the same (string, n) must give the same number, as OPA memoises it.
      const r = fromBig(BigInt(Math.floor(Math.random() * Number(abs))) % abs);
      ctx.cache.set(key, r);
      return r;
    },
  },
];
