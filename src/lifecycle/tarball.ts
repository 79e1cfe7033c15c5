// Bundles travel as tar archives over the API (one stream, no temporary file on the client)
// and may be handed to `restore` as a .tar. node-tar packs and unpacks them; an entry that
// would land outside the target directory (absolute, `..`, a link) is refused by it.
import { mkdtempSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { tsError } from '../errors.js';

/** A bundle directory as a tar stream (its files, flat). */
export function packBundle(dir: string): Readable {
  return tar.c({ cwd: dir, portable: true }, readdirSync(dir).sort()) as unknown as Readable;
}

/** Unpack a tar stream of a bundle into `dir` (new or empty). */
export async function extractBundle(body: ReadableStream<Uint8Array> | Readable, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length > 0) throw tsError('TS_ERR_BUNDLE', [dir, 'the output directory is not empty; give a new or empty one']);
  const source = body instanceof Readable ? body : Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>);
  await pipeline(source, tar.x({ cwd: dir, strict: true, filter: (path, entry) => (entry as { type?: string }).type === 'File' && !path.includes('/') }));
}

/** A bundle given as a directory, or a .tar unpacked into a temporary directory (removed by cleanup). */
export async function bundleDir(bundle: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  if (statSync(bundle).isDirectory()) return { dir: bundle, cleanup: async () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'tenantscope-bundle-'));
  try {
    await tar.x({ file: bundle, cwd: dir, strict: true, filter: (path, entry) => (entry as { type?: string }).type === 'File' && !path.includes('/') });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw tsError('TS_ERR_BUNDLE', [bundle, `not a tar archive of a bundle: ${(e as Error).message}`]);
  }
  return { dir, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}
