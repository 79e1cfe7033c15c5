// Set builtins over collections of sets (the binary `&` and `|` live in numbers.ts as and/or).
import type { BuiltinDef } from './types.js';
import { RSet, typeName, type Value } from '../value.js';
import { typeError, typeErrorLabel } from './operands.js';
import { setAnd, setOr } from './numbers.js';

function setOfSets(name: string, v: Value): RSet[] {
  if (!(v instanceof RSet)) return typeError(name, 1, 'set', v);
  return v.sorted().map((s) => {
    if (!(s instanceof RSet)) typeErrorLabel(name, 1, 'set of sets', `set containing ${typeName(s)}`);
    return s;
  });
}

/** Set builtins. */
export const DEFS: BuiltinDef[] = [
  {
    name: 'intersection',
    arity: 1,
    fn: ([v]) => {
      const sets = setOfSets('intersection', v!);
      return sets.length === 0 ? new RSet() : sets.reduce((a, b) => setAnd(a, b));
    },
  },
  { name: 'union', arity: 1, fn: ([v]) => setOfSets('union', v!).reduce((a, b) => setOr(a, b), new RSet()) },
];
