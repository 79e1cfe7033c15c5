// Plain-text tables for the CLI: columns padded to their widest cell (at most `maxWidth`,
// cut beyond it); the last column is never padded or cut, so long messages stay whole.

/** Rows (the first is the header) as aligned lines. */
export function textTable(rows: readonly string[][], maxWidth = Infinity): string {
  const widths = rows[0]!.map((_, i) => Math.min(maxWidth, Math.max(...rows.map((r) => r[i]!.length))));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.slice(0, widths[i]).padEnd(widths[i]!))).join('  ')).join('\n');
}
