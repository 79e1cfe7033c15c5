// Evidence as files an auditor keeps: the signed JSON, or the page that embeds it. Both the
// API and the CLI write them through here, and `evidence verify` reads them back through here,
// so what is checked is exactly what was written.
import type { KeyObject } from 'node:crypto';
import { VERSION } from '../version.js';
import { evidenceJson, verifyEvidence, type EvidenceVerification, type SignedEvidence } from './evidence-sign.js';

export type EvidenceFormat = 'json' | 'html';

/** A written evidence file: its bytes, media type and suggested name. */
export interface EvidenceFile {
  body: string;
  contentType: string;
  filename: string;
}

/** The file of a signed document in the given format. */
export async function evidenceFile(doc: SignedEvidence, format: EvidenceFormat): Promise<EvidenceFile> {
  const filename = evidenceFileName(doc, format);
  if (format === 'json') return { body: evidenceJson(doc), contentType: 'application/json; charset=utf-8', filename };
  const { renderEvidenceHtml } = await import('./evidence-html.js');
  return { body: await renderEvidenceHtml(doc), contentType: 'text/html; charset=utf-8', filename };
}

/** `evidence-<tenant>-<from>-<to>.<ext>`, times as compact UTC (20261101T000000Z). */
export function evidenceFileName(doc: SignedEvidence, ext: string): string {
  const compact = (iso: string) => iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `evidence-${doc.report.tenant.id}-${compact(doc.report.period.from)}-${compact(doc.report.period.to)}.${ext}`;
}

/**
 * Verify an evidence file, JSON or HTML. A page is verified through its embedded JSON, and
 * then as a whole: it must be byte for byte the page that JSON renders to, so its tables and
 * charts cannot be changed either (when this tenantscope is the version that rendered it).
 */
export async function verifyEvidenceFile(text: string, publicKey?: string | KeyObject): Promise<EvidenceVerification> {
  if (!/^\s*</.test(text)) return verifyEvidence(text, publicKey);
  const { embeddedEvidence, embedJson, renderEvidenceHtml } = await import('./evidence-html.js');
  const embedded = embeddedEvidence(text);
  if (embedded === undefined) return { valid: false, reason: 'bad_shape', field: '(page)', message: 'the page does not hold exactly one embedded evidence block (<script type="application/json" id="evidence">)' };
  let doc: unknown;
  try {
    doc = JSON.parse(embedded);
  } catch (e) {
    return { valid: false, reason: 'not_json', message: `the embedded evidence is not JSON: ${(e as Error).message}` };
  }
  const result = verifyEvidence(doc, publicKey);
  if (!result.valid) return result;
  if (embedJson(doc) !== embedded) return { valid: false, reason: 'not_as_written', message: 'the embedded JSON is not byte for byte as tenantscope wrote it (spacing, key order, escapes or a duplicate key changed)' };
  const signed = doc as SignedEvidence;
  if (signed.report.tenantscope_version !== VERSION) {
    return { ...result, notes: [...result.notes, `the page was rendered by tenantscope ${signed.report.tenantscope_version} and this is ${VERSION}: only its embedded JSON was verified, not its tables and charts`] };
  }
  const expected = await renderEvidenceHtml(signed);
  if (expected !== text) {
    const at = firstDifference(expected, text);
    return { valid: false, reason: 'page_mismatch', message: `the page differs from the rendering of its signed JSON at character ${at}: ${JSON.stringify(text.slice(Math.max(0, at - 30), at + 30))}` };
  }
  return result;
}

function firstDifference(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}
