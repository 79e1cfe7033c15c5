// The master key behind redaction markers. Markers are HMACs keyed per tenant from this key,
// so equal values stay joinable within a tenant while nobody can reverse them. Every node of
// a deployment must share it (TENANTSCOPE_REDACTION_KEY); a single node keeps a generated one
// in its data directory.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** 32 key bytes: from `secret` when given, else from (or newly into) `dataDir/redaction.key`. */
export function redactionKey(dataDir: string, secret?: string): Buffer {
  if (secret) return createHash('sha256').update(secret).digest();
  const file = join(dataDir, 'redaction.key');
  try {
    const hex = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(hex)) return Buffer.from(hex, 'hex');
  } catch {
    /* first start */
  }
  const key = randomBytes(32);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}
