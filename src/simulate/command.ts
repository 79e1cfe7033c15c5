// `tenantscope simulate`: run a workload scenario of the demo platform against a running
// tenantscope. Registered by the CLI; the simulator itself (and the OpenTelemetry SDK behind
// it) is loaded only when the command runs, so other commands start no slower.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { SCENARIO_NAMES, type ScenarioName } from './scenarios.js';

interface SimulateFlags {
  scenario: ScenarioName;
  endpoint: string;
  seed: number;
  duration: number;
  rate: number;
  period: number;
  config: string;
  adminToken: string;
  recovery: boolean;
  json?: boolean;
}

function number(min: number, what: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min) throw new InvalidArgumentError(`expected ${what}, got ${JSON.stringify(value)}`);
    return n;
  };
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected an integer, got ${JSON.stringify(value)}`);
  return n;
}

/** Add `simulate` to the CLI. */
export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('send the demo platform\'s telemetry (OTLP traces, metrics, logs) for a scenario, a simulated day in about a minute')
    .addOption(new Option('--scenario <name>', 'workload scenario (fixtures/scenarios.yaml)').choices(SCENARIO_NAMES).env('TENANTSCOPE_SIMULATE_SCENARIO').makeOptionMandatory())
    .addOption(new Option('--endpoint <url>', 'OTLP/HTTP base URL, e.g. http://localhost:4318').env('TENANTSCOPE_SIMULATE_ENDPOINT').makeOptionMandatory())
    .addOption(new Option('--seed <n>', 'seed: the same seed, scenario, period, end and rate send the same spans').env('TENANTSCOPE_SIMULATE_SEED').default(1).argParser(integer))
    .addOption(new Option('--duration <seconds>', 'real seconds to spread the simulated period over (0: as fast as possible)').env('TENANTSCOPE_SIMULATE_DURATION').default(60).argParser(number(0, 'seconds >= 0')))
    .addOption(new Option('--rate <x>', 'multiplier on the number of requests sent (the modelled load stays the same)').env('TENANTSCOPE_SIMULATE_RATE').default(1).argParser(number(0, 'a number >= 0')))
    .addOption(new Option('--period <hours>', 'simulated period, ending now').env('TENANTSCOPE_SIMULATE_PERIOD_HOURS').default(24).argParser(number(1 / 60, 'hours >= 1/60')))
    .addOption(new Option('--config <file>', 'tenant registry (regions, identifiers, recovery objectives)').env('TENANTSCOPE_CONFIG').default('fixtures/tenants.yaml'))
    .addOption(new Option('--admin-token <token>', 'admin token for the platform\'s backup facts (POST /v1/audit)').env('TENANTSCOPE_SIMULATE_ADMIN_TOKEN').default('demo-admin'))
    .option('--no-recovery', 'send telemetry only, no backup and restore facts')
    .option('--json', 'print the summary as JSON instead of tables')
    .action(async (flags: SimulateFlags) => {
      const { simulate, SimulationError } = await import('./index.js');
      const { formatSummary } = await import('./format.js');
      let reported = 0;
      try {
        const summary = await simulate({
          scenario: flags.scenario,
          endpoint: flags.endpoint,
          seed: flags.seed,
          durationSec: flags.duration,
          rate: flags.rate,
          periodMs: Math.round(flags.period * 3_600_000),
          registryPath: flags.config,
          adminToken: flags.adminToken,
          recovery: flags.recovery,
          onProgress: (p) => {
            const tenth = Math.floor((10 * p.minutesDone) / p.minutes);
            if (tenth <= reported || p.minutesDone === p.minutes) return;
            reported = tenth;
            process.stderr.write(`simulate: ${tenth * 10}% (${new Date(p.simulatedMs).toISOString()}), ${p.spans.toLocaleString('en-US')} spans in ${(p.elapsedMs / 1000).toFixed(1)} s\n`);
          },
        });
        process.stdout.write(`${flags.json ? JSON.stringify(summary, null, 2) : formatSummary(summary)}\n`);
        const failed = Object.values(summary.exports).reduce((a, c) => a + c.failedRequests, 0);
        process.exitCode = failed > 0 ? 1 : 0;
      } catch (e) {
        if (!(e instanceof SimulationError)) throw e;
        process.stderr.write(`tenantscope: ${e.message}\n`);
        process.exitCode = 1;
      }
    });
}
