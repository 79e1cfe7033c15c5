// Aggregate builtins over collections. Sums and products reuse the exact integer arithmetic of
// numbers.ts so that adding large integers keeps every digit.
import type { BuiltinDef } from './types.js';
import { RObject, RSet, compare, isNumber, typeName, type RNumber, type Value } from '../value.js';
import { oneOf, typeError, typeErrorLabel } from './operands.js';
import { add, multiply } from './numbers.js';

function coll(name: string, v: Value, order: 'set-array' | 'array-set'): Value[] {
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return v.sorted();
  return typeError(name, 1, order === 'set-array' ? oneOf('set', 'array') : oneOf('array', 'set'), v);
}

function numbers(name: string, v: Value): RNumber[] {
  return coll(name, v, 'set-array').map((e) => {
    if (!isNumber(e)) typeErrorLabel(name, 1, `${typeName(v)} of numbers`, `${typeName(v)} containing ${typeName(e)}`);
    return e;
  });
}

function extreme(name: string, v: Value, sign: 1 | -1): Value | undefined {
  const xs = coll(name, v, 'set-array');
  if (xs.length === 0) return undefined;
  let best: Value = xs[0]!;
  for (const x of xs) if (compare(x, best) * sign > 0) best = x;
  return best;
}

function booleans(name: string, v: Value): Value[] {
  return coll(name, v, 'set-array');
}

/** Aggregate builtins. */
export const DEFS: BuiltinDef[] = [
  {
    name: 'count',
    arity: 1,
    fn: ([v]) => {
      if (Array.isArray(v)) return v.length;
      if (v instanceof RObject || v instanceof RSet) return v.size;
      // OPA counts Unicode code points, not UTF-16 units.
      if (typeof v === 'string') return [...v].length;
      return typeError('count', 1, oneOf('array', 'object', 'set', 'string'), v!);
    },
  },
  { name: 'sum', arity: 1, fn: ([v]) => numbers('sum', v!).reduce<RNumber>((a, b) => add(a, b), 0) },
  { name: 'product', arity: 1, fn: ([v]) => numbers('product', v!).reduce<RNumber>((a, b) => multiply(a, b), 1) },
  { name: 'max', arity: 1, fn: ([v]) => extreme('max', v!, 1) },
  { name: 'min', arity: 1, fn: ([v]) => extreme('min', v!, -1) },
  { name: 'sort', arity: 1, fn: ([v]) => [...coll('sort', v!, 'array-set')].sort(compare) },
  { name: 'all', arity: 1, fn: ([v]) => booleans('all', v!).every((x) => x === true) },
  { name: 'any', arity: 1, fn: ([v]) => booleans('any', v!).some((x) => x === true) },
];
