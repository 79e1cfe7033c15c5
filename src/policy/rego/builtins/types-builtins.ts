// Type predicates, type_name and the deprecated cast_* builtins (still used by older policies).
import type { BuiltinDef } from './types.js';
import { RObject, RSet, typeName, type TypeName } from '../value.js';
import { oneOf, typeError } from './operands.js';

function is(name: string, t: TypeName): BuiltinDef {
  return { name, arity: 1, fn: ([v]) => typeName(v!) === t };
}

function castSame(name: string, t: TypeName): BuiltinDef {
  return { name, arity: 1, fn: ([v]) => (typeName(v!) === t ? v! : typeError(name, 1, t, v!)) };
}

/** Type builtins. */
export const DEFS: BuiltinDef[] = [
  is('is_number', 'number'),
  is('is_string', 'string'),
  is('is_boolean', 'boolean'),
  is('is_array', 'array'),
  is('is_set', 'set'),
  is('is_object', 'object'),
  is('is_null', 'null'),
  { name: 'type_name', arity: 1, fn: ([v]) => typeName(v!) },
  {
    name: 'cast_array',
    arity: 1,
    fn: ([v]) => (Array.isArray(v) ? v : v instanceof RSet ? v.sorted() : typeError('cast_array', 1, oneOf('array', 'set'), v!)),
  },
  {
    name: 'cast_set',
    arity: 1,
    fn: ([v]) => (v instanceof RSet ? v : Array.isArray(v) ? RSet.from(v) : typeError('cast_set', 1, oneOf('array', 'set'), v!)),
  },
  castSame('cast_string', 'string'),
  castSame('cast_boolean', 'boolean'),
  castSame('cast_null', 'null'),
  { name: 'cast_object', arity: 1, fn: ([v]) => (v instanceof RObject ? v : typeError('cast_object', 1, 'object', v!)) },
];
