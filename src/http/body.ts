// Request bodies as they arrive: Content-Encoding undone, with a size limit of its own on the
// inflated bytes (a small gzip body can inflate without bound). The body as received is
// bounded earlier, by the HTTP server's body limit.
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { tsError } from '../errors.js';

const gunzipAsync = promisify(gunzip);

/** The request body after Content-Encoding (gzip or identity), bounded by `limit` bytes. */
export async function inflate(body: Buffer, contentEncoding: string | undefined, limit: number): Promise<Buffer> {
  const enc = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') {
    if (body.length > limit) throw tsError('TS_ERR_BODY_TOO_LARGE', [limit, '(as sent)']);
    return body;
  }
  if (enc !== 'gzip') throw tsError('TS_ERR_CONTENT_ENCODING', [JSON.stringify(enc.slice(0, 40))]);
  try {
    return await gunzipAsync(body, { maxOutputLength: limit });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // zlib stops at maxOutputLength, so a bomb costs at most `limit` bytes before it is refused.
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw tsError('TS_ERR_BODY_TOO_LARGE', [limit, '(after decompression)']);
    throw tsError('TS_ERR_GZIP', [err.message]);
  }
}
