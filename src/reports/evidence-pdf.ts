// The evidence page printed to PDF by a headless Chromium (playwright-core). A PDF is a
// printout for reading and filing: it carries no signature, so the JSON or HTML it was printed
// from is what `evidence verify` checks.
import { tsError } from '../errors.js';

/** Where Chromium is; TENANTSCOPE_CHROMIUM overrides. */
const CHROMIUM = process.env.TENANTSCOPE_CHROMIUM ?? '/usr/bin/chromium';

// A printer, not a browser: no network, no profile sync, no background services.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Print an evidence page to a PDF file. */
export async function printEvidencePdf(html: string, outFile: string): Promise<void> {
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    throw tsError('TS_ERR_CONFIG', ['PDF output needs the playwright-core package, which is not installed; write .html and print it instead']);
  }
  let browser: import('playwright-core').Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  } catch (e) {
    throw tsError('TS_ERR_CONFIG', [`cannot start Chromium at ${CHROMIUM} to print the PDF (set TENANTSCOPE_CHROMIUM): ${(e as Error).message.split('\n')[0]}`]);
  }
  try {
    const page = await browser.newPage();
    // The page is self-contained; anything it would fetch is refused rather than fetched.
    await page.route('**/*', (route) => (route.request().url() === 'about:blank' ? route.continue() : route.abort()));
    await page.setContent(html, { waitUntil: 'load' });
    await page.pdf({ path: outFile, format: 'A4', printBackground: true, margin: { top: '12mm', bottom: '12mm', left: '10mm', right: '10mm' } });
  } finally {
    await browser.close();
  }
}
