// Hash and HMAC builtins over node:crypto; digests are lowercase hex, as OPA returns them.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { BuiltinDef } from './types.js';
import { str } from './operands.js';

function hash(name: string, algo: string): BuiltinDef {
  return { name, arity: 1, fn: (args) => createHash(algo).update(str(name, args, 1), 'utf8').digest('hex') };
}

function hmac(name: string, algo: string): BuiltinDef {
  return {
    name,
    arity: 2,
    fn: (args) => createHmac(algo, Buffer.from(str(name, args, 2), 'utf8')).update(str(name, args, 1), 'utf8').digest('hex'),
  };
}

/** Crypto builtins. */
export const DEFS: BuiltinDef[] = [
  hash('crypto.md5', 'md5'),
  hash('crypto.sha1', 'sha1'),
  hash('crypto.sha256', 'sha256'),
  hmac('crypto.hmac.md5', 'md5'),
  hmac('crypto.hmac.sha1', 'sha1'),
  hmac('crypto.hmac.sha256', 'sha256'),
  hmac('crypto.hmac.sha512', 'sha512'),
  {
    name: 'crypto.hmac.equal',
    arity: 2,
    fn: (args) => {
      // Constant-time like Go's hmac.Equal, so policies comparing MACs do not leak timing.
      const a = Buffer.from(str('crypto.hmac.equal', args, 1), 'utf8');
      const b = Buffer.from(str('crypto.hmac.equal', args, 2), 'utf8');
      return a.length === b.length && timingSafeEqual(a, b);
    },
  },
];
