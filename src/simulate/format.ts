// The simulator's summary as a terminal table: what was sent per tenant and per shared
// resource, the scenario's windows, and whether any export failed, so whoever ran it can tell
// at a glance what the reports should now show.
import type { ExportCounts, SimulationSummary } from './index.js';

function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  // Names left, figures right.
  const cell = (c: string, i: number) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!));
  return all.map((r) => r.map(cell).join('  ').trimEnd()).join('\n');
}

const int = (n: number) => n.toLocaleString('en-US');
const pct = (n: number, d: number) => (d === 0 ? '-' : `${((100 * n) / d).toFixed(2)}%`);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function exportLine(signal: string, c: ExportCounts): string {
  const failed = c.failedRequests > 0 ? `, ${int(c.failedRequests)} FAILED (${int(c.failedItems)} items): ${c.errors.join('; ')}` : '';
  return `  ${signal.padEnd(7)} ${int(c.items)} items in ${int(c.requests)} requests${failed}`;
}

/** The summary as readable text (tables and a few lines). */
export function formatSummary(s: SimulationSummary): string {
  const lines: string[] = [];
  lines.push(
    `scenario ${s.scenario}, seed ${s.seed}, rate ${s.rate}: ${iso(s.startMs)} .. ${iso(s.endMs)} (${int(s.minutes)} simulated minutes) in ${(s.elapsedMs / 1000).toFixed(1)} s, ${int(s.spans)} spans (${int(Math.round(s.spans / Math.max(s.elapsedMs / 1000, 0.001)))}/s)`,
  );
  lines.push('');
  lines.push(
    table(
      ['TENANT', 'REGION', 'REQUESTS', 'SPANS', 'ERRORS', 'ERROR %', 'LOGS'],
      s.tenants.map((t) => [t.tenant, t.region, int(t.requests), int(t.spans), int(t.errors), pct(t.errors, t.requests), int(t.logs)]),
    ),
  );
  lines.push('');
  lines.push(
    table(
      ['RESOURCE', 'KIND', 'REQUESTS', 'ERRORS', 'PEAK UTIL', 'PEAK LATENCY x', 'TOP TENANT (SHARE)'],
      s.resources.map((r) => {
        const top = Object.entries(r.byTenant).sort(([, a], [, b]) => b.requests - a.requests)[0];
        return [
          r.kind === 'service' ? r.resource : `${r.resource} (${r.name})`,
          r.kind,
          int(r.requests),
          int(r.errors),
          `${Math.round(r.peakUtilisation * 100)}%`,
          r.peakLatencyFactor.toFixed(1),
          top ? `${top[0]} (${pct(top[1].requests, r.requests)})` : '-',
        ];
      }),
    ),
  );
  for (const w of s.windows) lines.push('', `${w.kind} ${iso(w.fromMs)} .. ${iso(w.toMs)}: ${w.description}; ${int(w.requests)} requests${w.kind === 'failure' ? `, ${int(w.errors)} failed` : ''}; latency up to ${w.peakLatencyFactor.toFixed(1)}x on ${w.resources.join(', ')}`);
  for (const l of s.leaks) lines.push('', `leak: ${int(l.spans)} ${l.tenant} spans carry ${l.owner}'s identifier in ${l.attribute}`);
  for (const m of s.missingTenant) lines.push('', `missing tenant context: ${int(m.spans)} ${m.tenant} spans from ${m.instance} (${m.service}) without tenant.id`);
  for (const m of s.mismatch) lines.push('', `tenant mismatch: ${int(m.spans)} spans with ${m.tenant}'s token claim tenant.id=${m.claims} (${m.service}); the server refuses them`);
  lines.push('', table(['RECOVERY FACTS BY', 'KIND', 'FACTS'], s.recovery.facts.map((f) => [f.sender, f.kind, int(f.facts)])));
  for (const d of s.recovery.drift) lines.push('', `recovery drift: ${d.tenant}: ${d.description}${d.fromMs !== undefined ? ` ${iso(d.fromMs)} .. ${iso(d.toMs!)}` : ''}`);
  lines.push('', 'exports:', ...Object.entries(s.exports).map(([signal, c]) => exportLine(signal, c)));
  return lines.join('\n');
}
