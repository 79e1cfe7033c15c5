// units.parse and units.parse_bytes. Amounts are computed as exact rationals (decimal amount
// times a power-of-ten or power-of-two factor) and only then turned into a number, so
// "0.0000005M" is exactly 0.5 and "10Ei" keeps all of its digits, as OPA's big.Rat maths does.
import type { BuiltinDef } from './types.js';
import type { RNumber } from '../value.js';
import { builtinError, fromBig, str } from './operands.js';

const DEC: Record<string, bigint> = { k: 10n ** 3n, m: 10n ** 6n, g: 10n ** 9n, t: 10n ** 12n, p: 10n ** 15n, e: 10n ** 18n };
const BIN: Record<string, bigint> = { ki: 1n << 10n, mi: 1n << 20n, gi: 1n << 30n, ti: 1n << 40n, pi: 1n << 50n, ei: 1n << 60n };

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  while (b) [a, b] = [b, a % b];
  return a;
}

/** A decimal string as num/den. */
function rational(s: string): [bigint, bigint] | undefined {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
  const frac = m[2] ?? '';
  return [BigInt((m[1] || '0') + frac), 10n ** BigInt(frac.length)];
}

function toNumber(num: bigint, den: bigint): RNumber {
  const g = gcd(num, den) || 1n;
  num /= g;
  den /= g;
  if (den === 1n) return fromBig(num);
  // Both sides are reduced; a double division of exact operands rounds once, correctly.
  return Number(num) / Number(den);
}

function split(raw: string): [string, string] {
  const i = [...raw].findIndex((c) => !/[0-9.]/.test(c));
  return i < 0 ? [raw, ''] : [raw.slice(0, i), raw.slice(i)];
}

/** Units builtins. */
export const DEFS: BuiltinDef[] = [
  {
    name: 'units.parse',
    arity: 1,
    fn: (args) => {
      const n = 'units.parse';
      const raw = str(n, args, 1).replace(/"/g, '');
      if (raw.includes(' ')) builtinError(n, 'spaces not allowed in resource strings');
      const [amount, unit] = split(raw);
      if (amount === '') builtinError(n, 'no amount provided');
      const r = rational(amount);
      if (!r) return builtinError(n, 'could not parse amount to a number');
      // Only a lone lowercase "m" means milli; every other unit is case-insensitive.
      if (unit === 'm') return toNumber(r[0], r[1] * 1000n);
      if (unit === '') return toNumber(r[0], r[1]);
      const u = unit.toLowerCase();
      const f = DEC[u] ?? BIN[u];
      if (f === undefined) return builtinError(n, `unit ${unit} not recognized`);
      return toNumber(r[0] * f, r[1]);
    },
  },
  {
    name: 'units.parse_bytes',
    arity: 1,
    fn: (args) => {
      const n = 'units.parse_bytes';
      const raw = str(n, args, 1).replace(/"/g, '').toLowerCase();
      if (raw.includes(' ')) builtinError(n, 'spaces not allowed in resource strings');
      const [amount, unit] = split(raw);
      if (amount === '') builtinError(n, 'no byte amount provided');
      const r = rational(amount);
      if (!r) return builtinError(n, 'could not parse byte amount to a number');
      const u = unit.replace(/b$/, '');
      const f = u === '' ? 1n : DEC[u] ?? BIN[u];
      if (f === undefined) return builtinError(n, `byte unit ${unit} not recognized`);
      // Whole bytes: the fraction is truncated ("1.1KiB" is 1126).
      return fromBig((r[0] * f) / r[1]);
    },
  },
];
