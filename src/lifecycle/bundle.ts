// An export bundle: one Parquet file per table holding only one tenant's rows, a manifest that
// describes each file (table, columns, rows, bytes, SHA-256, fingerprint, first and last
// time) with the tenant's audit-chain heads, and the manifest's Ed25519 signature by the
// evidence key. Checking a bundle recomputes everything the signature covers from the files
// themselves, so a changed byte anywhere is named before anything is stored.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { detachedSignatureProblem, type DetachedSignature } from '../reports/evidence-sign.js';
import type { SegmentHead } from '../ingest/audit/chain.js';
import type { TableName } from '../store/types.js';
import type { Fingerprint, StoredColumn } from './tables.js';

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
export const BUNDLE_FORMAT = 'tenantscope-export/1';

/** One table's file in a bundle. */
export interface ManifestFile extends Fingerprint {
  file: string;
  table: TableName;
  /** The columns as stored (aggregate states travel as their bytes, in a String column). */
  columns: StoredColumn[];
  bytes: number;
  sha256: string;
}

/** What a bundle says it holds; signed. */
export interface ExportManifest {
  format: typeof BUNDLE_FORMAT;
  tenant: string;
  /** ISO 8601; from null: from the first row; to: the end of the period (the export's time when not given). */
  period: { from: string | null; to: string };
  created_at: string;
  tenantscope_version: string;
  /** The store's schema migration level when exported. */
  schema_migration: number;
  files: ManifestFile[];
  audit_chain: {
    /** What `audit verify` said of the tenant's chain when exported. */
    status: string;
    events: number;
    segments: SegmentHead[];
    /** The latest signed checkpoint of the chains, when the server keeps them. */
    checkpoint: unknown;
  };
}

/** The manifest file's bytes: two-space JSON and a newline. */
export function manifestJson(m: ExportManifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

/** SHA-256 (hex) of a file, read as a stream. */
export async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** A bundle that passed every check. */
export interface CheckedBundle {
  dir: string;
  manifest: ExportManifest;
  signature: DetachedSignature;
  /** SHA-256 of the manifest file: what certificates and audit events cite. */
  manifestSha256: string;
}

/**
 * Check a bundle directory: the manifest's signature (by `publicKey` when given, the key a
 * restore trusts), then every file against the manifest. Returns the bundle or the first
 * problem, naming the file and what differs.
 */
export async function checkBundle(dir: string, publicKey?: string): Promise<CheckedBundle | { problem: string }> {
  const manifestPath = join(dir, MANIFEST_FILE);
  const sigPath = join(dir, SIGNATURE_FILE);
  if (!existsSync(manifestPath)) return { problem: `${MANIFEST_FILE} is missing` };
  if (!existsSync(sigPath)) return { problem: `${SIGNATURE_FILE} is missing` };
  const text = readFileSync(manifestPath, 'utf8');
  let manifest: ExportManifest;
  let signature: DetachedSignature;
  try {
    manifest = JSON.parse(text) as ExportManifest;
  } catch (e) {
    return { problem: `${MANIFEST_FILE} is not JSON: ${(e as Error).message}` };
  }
  try {
    signature = JSON.parse(readFileSync(sigPath, 'utf8')) as DetachedSignature;
  } catch (e) {
    return { problem: `${SIGNATURE_FILE} is not JSON: ${(e as Error).message}` };
  }
  const sigProblem = detachedSignatureProblem(manifest, signature, publicKey);
  if (sigProblem) return { problem: `${MANIFEST_FILE}: ${sigProblem}` };
  if (manifest.format !== BUNDLE_FORMAT) return { problem: `${MANIFEST_FILE}: format ${JSON.stringify(manifest.format)} is not ${BUNDLE_FORMAT}` };
  if (!Array.isArray(manifest.files)) return { problem: `${MANIFEST_FILE}: files is not a list` };
  const listed = new Set([MANIFEST_FILE, SIGNATURE_FILE]);
  for (const f of manifest.files) {
    if (typeof f.file !== 'string' || !/^[a-z_]+\.parquet$/.test(f.file)) return { problem: `${MANIFEST_FILE}: file name ${JSON.stringify(f.file)} is not a table file` };
    listed.add(f.file);
    const path = join(dir, f.file);
    if (!existsSync(path)) return { problem: `${f.file} is missing` };
    const size = statSync(path).size;
    if (size !== f.bytes) return { problem: `${f.file} has ${size} bytes, the manifest says ${f.bytes}` };
    const sha = await fileSha256(path);
    if (sha !== f.sha256) return { problem: `${f.file} has SHA-256 ${sha}, the manifest says ${f.sha256}` };
  }
  for (const name of readdirSync(dir)) if (!listed.has(name)) return { problem: `${name} is not part of the signed manifest` };
  return { dir, manifest, signature, manifestSha256: createHash('sha256').update(text).digest('hex') };
}
