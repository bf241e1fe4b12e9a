/**
 * `aimc-sweep submit <sweep.yaml> --coordinator host:port [--wait]`: validates a sweep locally
 * (errors with file:line, exit 2), submits it to a running coordinator and, with --wait,
 * follows its progress until no run is left to run.
 */
import * as grpc from '@grpc/grpc-js';
import type { Argv } from 'yargs';
import { RunStatus } from '../gen/aimcsweep/v1/run_pb.ts';
import { SweepService } from '../gen/aimcsweep/v1/sweep_pb.ts';
import { createClient, isServiceError } from '../rpc/bridge.ts';
import { sweepWarnings } from '../diagnostics/sweep-warnings.ts';
import { type Expansion, expandSweep } from '../sweep/expand.ts';
import { parseSweepText, readSweepText, SweepError } from '../sweep/spec.ts';
import { awaitCoordinator, CLIENT_OPTIONS, channelCredentialsFrom, checkAddress, readToken } from './connection.ts';
import { MAX_RUNS_OPTION, maxRunsFrom, UsageError } from './errors.ts';
import { datasetShape, reportScheduleWarnings, STRICT_OPTION } from './schedule-warnings.ts';

export function submitCommand(yargs: Argv): Argv {
  return yargs.command(
    'submit <sweep>',
    'submit a sweep to a running coordinator (--wait: follow it until finished)',
    (y) =>
      y
        .positional('sweep', { type: 'string', demandOption: true, describe: 'sweep definition (YAML)' })
        .option('coordinator', { type: 'string', demandOption: true, describe: 'coordinator address host:port' })
        .option('wait', { type: 'boolean', default: false, describe: 'follow progress until every run is done or failed' })
        .option('connect-timeout', { type: 'number', default: 20, describe: 'seconds to wait for a coordinator that is not listening yet' })
        .options(STRICT_OPTION)
        .options(MAX_RUNS_OPTION)
        .options(CLIENT_OPTIONS),
    async (argv) => {
      const file = argv.sweep as string;
      let yaml: string;
      let expansion: Expansion;
      try {
        yaml = readSweepText(file); // at most 1 MiB, UTF-8
        // the coordinator validates again (with its own limit of runs); this gives local line numbers first
        expansion = expandSweep(parseSweepText(yaml, file), { maxRuns: maxRunsFrom(argv['max-runs']) });
      } catch (e) {
        if (e instanceof SweepError) throw new UsageError(e.message);
        throw e;
      }
      reportScheduleWarnings(sweepWarnings(expansion.runs, datasetShape), argv.strict);
      const client = createClient(SweepService, checkAddress('--coordinator', argv.coordinator), channelCredentialsFrom(argv['tls-ca'], argv.tls), {
        token: readToken(argv['token-file']),
      });
      try {
        const seconds = argv['connect-timeout'];
        if (!(seconds >= 0)) throw new UsageError(`--connect-timeout: expected a number of seconds >= 0, got ${String(seconds)}`);
        await awaitCoordinator(client, argv.coordinator, seconds);
        const r = await client.submit({ fileName: file, specYaml: yaml }, { deadline: Date.now() + 30_000 });
        process.stdout.write(`${r.sweepName}: submitted to ${argv.coordinator}: ${r.totalRuns} runs (${r.newRuns} new, ${r.doneRuns} already done)\n`);
        if (!argv.wait) return;
        let failed = 0;
        for await (const update of client.watch({ sweepName: r.sweepName })) {
          const c = update.sweep?.counts;
          if (!c) continue;
          const total = c.queued + c.running + c.done + c.failed;
          if (update.run) {
            if (update.run.status === RunStatus.FAILED) failed++;
            const what = update.run.status === RunStatus.DONE ? 'done' : `FAILED: ${update.run.error}`;
            process.stdout.write(`[${c.done + c.failed}/${total}] ${update.run.runHash.slice(0, 12)}#${update.run.attempt} ${what}\n`);
          }
        }
        process.stdout.write(`${r.sweepName}: finished${failed > 0 ? ` (${failed} failed while watching)` : ''}\n`);
      } catch (e) {
        if (isServiceError(e)) throw new UsageError(`${argv.coordinator}: ${grpc.status[e.code]}: ${e.details || e.message}`);
        throw e;
      } finally {
        client.$close();
      }
    },
  );
}
