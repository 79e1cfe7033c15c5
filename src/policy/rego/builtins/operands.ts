// Operand checks shared by the builtin modules. They throw BuiltinError with OPA's exact wording
// ("<name>: operand <n> must be <expected> but got <type>"), because conformance cases and
// policy authors match on those texts.
import { BuiltinError } from './types.js';
import { RObject, RSet, isNumber, typeName, type RNumber, type Value } from '../value.js';

/** Throw OPA's operand type error for builtin `name`, operand position `pos` (1-based). */
export function typeError(name: string, pos: number, expected: string, got: Value): never {
  throw new BuiltinError('eval_type_error', `${name}: operand ${pos} must be ${expected} but got ${typeName(got)}`);
}

/** Throw a type error with a free-form "got" label (e.g. "floating-point number"). */
export function typeErrorLabel(name: string, pos: number, expected: string, got: string): never {
  throw new BuiltinError('eval_type_error', `${name}: operand ${pos} must be ${expected} but got ${got}`);
}

/** Throw an eval_builtin_error prefixed with the builtin's name, as OPA does. */
export function builtinError(name: string, message: string): never {
  throw new BuiltinError('eval_builtin_error', `${name}: ${message}`);
}

/** The `{a, b}` list OPA prints for union-typed operands. */
export function oneOf(...types: string[]): string {
  return `one of {${types.join(', ')}}`;
}

/** Operand `pos` as a string. */
export function str(name: string, args: Value[], pos: number): string {
  const v = args[pos - 1]!;
  if (typeof v !== 'string') typeError(name, pos, 'string', v);
  return v;
}

/** Operand `pos` as a number. */
export function num(name: string, args: Value[], pos: number): RNumber {
  const v = args[pos - 1]!;
  if (!isNumber(v)) typeError(name, pos, 'number', v);
  return v;
}

/** True when a number is integral (bigints always are). */
export function isInt(n: RNumber): boolean {
  return typeof n === 'bigint' || Number.isInteger(n);
}

/** Operand `pos` as an integer (bigint); floats give OPA's "integer number" error. */
export function int(name: string, args: Value[], pos: number): bigint {
  const n = num(name, args, pos);
  if (!isInt(n)) typeErrorLabel(name, pos, 'integer number', 'floating-point number');
  return bigOf(n);
}

/** Operand `pos` as a safe JS integer (for indexes, counts). */
export function smallInt(name: string, args: Value[], pos: number): number {
  const n = num(name, args, pos);
  if (!isInt(n)) typeErrorLabel(name, pos, 'integer number', 'floating-point number');
  return Number(n);
}

/** Operand `pos` as a boolean. */
export function bool(name: string, args: Value[], pos: number): boolean {
  const v = args[pos - 1]!;
  if (typeof v !== 'boolean') typeError(name, pos, 'boolean', v);
  return v;
}

/** Operand `pos` as an array. */
export function arr(name: string, args: Value[], pos: number): Value[] {
  const v = args[pos - 1]!;
  if (!Array.isArray(v)) typeError(name, pos, 'array', v);
  return v;
}

/** Operand `pos` as an object. */
export function obj(name: string, args: Value[], pos: number): RObject {
  const v = args[pos - 1]!;
  if (!(v instanceof RObject)) typeError(name, pos, 'object', v);
  return v;
}

/** Operand `pos` as a set. */
export function set(name: string, args: Value[], pos: number): RSet {
  const v = args[pos - 1]!;
  if (!(v instanceof RSet)) typeError(name, pos, 'set', v);
  return v;
}

/** Elements of an array or set (set in sorted order). */
export function elems(v: RSet | Value[]): Value[] {
  return Array.isArray(v) ? v : v.sorted();
}

/** Operand `pos` as an array or set of strings (OPA's message order: "{set, array}" unless given). */
export function strColl(name: string, args: Value[], pos: number, expected = oneOf('set', 'array')): string[] {
  const v = args[pos - 1]!;
  if (!(Array.isArray(v) || v instanceof RSet)) typeError(name, pos, expected, v);
  return elems(v).map((e) => {
    if (typeof e !== 'string') typeErrorLabel(name, pos, `${Array.isArray(v) ? 'array' : 'set'} of strings`, `${Array.isArray(v) ? 'array' : 'set'} containing ${typeName(e)}`);
    return e;
  });
}

/** A bigint as a Rego number: a JS number when exactly representable. */
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function fromBig(b: bigint): RNumber {
  return b >= MIN_SAFE && b <= MAX_SAFE ? Number(b) : b;
}

/** A JS number as a Rego number, keeping unsafe-but-integral doubles exact as bigint. */
export function normNum(n: RNumber): RNumber {
  if (typeof n === 'bigint') return fromBig(n);
  if (Object.is(n, -0)) return 0;
  return n;
}

/**
 * An integral number as a bigint, read from its shortest decimal text: a double like 1e109 is
 * meant as 10^109 (as OPA's decimal numbers are), not as the nearest binary value.
 */
export function bigOf(n: RNumber): bigint {
  if (typeof n === 'bigint') return n;
  if (Number.isSafeInteger(n)) return BigInt(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(String(n));
  if (!m) return BigInt(n);
  const frac = m[3] ?? '';
  const exp = Number(m[4]) - frac.length;
  const digits = BigInt(m[2]! + frac);
  const v = exp >= 0 ? digits * 10n ** BigInt(exp) : digits / 10n ** BigInt(-exp);
  return m[1] ? -v : v;
}

/** A number as an exact decimal fraction: value = num / 10^scale (scale >= 0). */
export function decimalOf(n: RNumber): { num: bigint; scale: number } {
  if (typeof n === 'bigint') return { num: n, scale: 0 };
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(n));
  if (!m) return { num: BigInt(Math.trunc(n)), scale: 0 };
  const frac = m[3] ?? '';
  let scale = frac.length - Number(m[4] ?? 0);
  let num = BigInt(m[2]! + frac);
  if (scale < 0) {
    num *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { num: m[1] ? -num : num, scale };
}
