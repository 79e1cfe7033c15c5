// This node's stable id, kept in the data directory: it names the node's audit chain segment,
// so a restart continues the same segment instead of starting a new one.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The node id stored in `dataDir/node-id`, created on first use. */
export function nodeId(dataDir: string): string {
  const file = join(dataDir, 'node-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[a-z0-9-]{4,64}$/.test(id)) return id;
  } catch {
    /* first start */
  }
  const id = `node-${randomBytes(6).toString('hex')}`;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${id}\n`);
  return id;
}
