/**
 * Distributed-mode benchmarks (issue 5) on 127.0.0.1:
 * - coordinator throughput: trivial runs leased and recorded per second with 8 simulated worker
 *   sessions that answer every lease at once with a canned result (target >= 500/s); the
 *   sessions live in another process, as real workers would;
 * - end-to-end scaling on a CPU-bound sweep: one worker node with 2 threads, two worker nodes
 *   with 1 thread each, and embedded mode (target: distributed >= 0.9 of embedded runs/s).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runEmbedded } from '../src/coordinator/embedded.ts';
import { Scheduler } from '../src/coordinator/scheduler.ts';
import { Coordinator } from '../src/coordinator/service.ts';
import { SweepService } from '../src/gen/aimcsweep/v1/sweep_pb.ts';
import { channelCredentials, createClient, serverCredentials } from '../src/rpc/bridge.ts';
import { openStore } from '../src/store/open.ts';
import { expandSweep } from '../src/sweep/expand.ts';
import { parseSweepText } from '../src/sweep/spec.ts';
import { WorkerAgent } from '../src/worker/agent.ts';
import { SimulationPool } from '../src/worker/pool.ts';

const TRIVIAL = '{ task: { in_size: 2, out_size: 2, n_samples: 2 }, epochs: 1 }';
/** repetitions of the scaling comparison (BENCH_REPS, default 3) */
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 3));
const CPU_BOUND = '{ task: { in_size: 64, out_size: 32, n_samples: 500 }, epochs: 10 }';

function sweepYaml(name: string, base: string, seeds: number): string {
  return (
    `name: ${name}\nbase: ${base}\ngrid: { seed: [${Array.from({ length: seeds }, (_, i) => i + 1).join(', ')}] ` +
    `}\n`
  );
}

async function withCoordinator<T>(
  dir: string,
  name: string,
  fn: (address: string, scheduler: Scheduler) => Promise<T>,
): Promise<T> {
  const file = join(dir, `${name}.db`);
  const db = openStore(file);
  const scheduler = new Scheduler(db, { file, orphans: 'expire' });
  const coordinator = new Coordinator({ scheduler, db });
  const port = await coordinator.listen('127.0.0.1:0', serverCredentials());
  try {
    return await fn(`127.0.0.1:${port}`, scheduler);
  } finally {
    await coordinator.close(500);
    scheduler.close();
    db.close();
  }
}

/** Submits and waits until the sweep has nothing left to run; seconds from submit to the end. */
async function submitAndWait(address: string, scheduler: Scheduler, yaml: string, name: string): Promise<number> {
  const client = createClient(SweepService, address, channelCredentials());
  const t0 = performance.now();
  const r = await client.submit({ fileName: `${name}.yaml`, specYaml: yaml });
  await new Promise<void>((resolve) => {
    const check = (): void => {
      const c = scheduler.counts();
      if (c.queued + c.running === 0) {
        scheduler.events.off('event', check);
        resolve();
      }
    };
    scheduler.events.on('event', check);
    check();
  });
  const seconds = (performance.now() - t0) / 1000;
  client.$close();
  const c = scheduler.counts();
  if (c.done !== r.totalRuns) throw new Error(`${name}: ${c.done} of ${r.totalRuns} runs done`);
  return seconds;
}

/** Simulated sessions answering every lease at once, in a child process (bench/fake-sessions.ts). */
async function fakeSessions(address: string, sessions: number, slots: number): Promise<ChildProcess> {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const file = fileURLToPath(new URL(`./fake-sessions${ext}`, import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, file, address, String(sessions), String(slots)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`fake sessions exited with ${code}`)));
  });
  return child;
}

async function agents(address: string, threadsEach: number[]): Promise<{ stop: () => Promise<void> }> {
  const running = threadsEach.map((threads) => {
    const pool = new SimulationPool(threads);
    const agent = new WorkerAgent({ coordinator: address, pool, credentials: channelCredentials() });
    const done = agent.run();
    return { pool, agent, done };
  });
  // warm each pool's threads (module load) before timing
  await Promise.all(running.map((r) => r.pool.run('0'.repeat(64), '{}').catch(() => undefined)));
  return {
    stop: async () => {
      for (const r of running) r.agent.drain();
      await Promise.all(running.map((r) => r.done));
      await Promise.all(running.map((r) => r.pool.destroy()));
    },
  };
}

export async function runDistributedBench(log: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'aimc-bench-dist-'));
  try {
    log('## Distributed mode (coordinator over gRPC on 127.0.0.1)');
    log('');
    const runs = 4000;
    const throughput = await withCoordinator(dir, 'throughput', async (address, scheduler) => {
      const fake = await fakeSessions(address, 8, 4);
      const seconds = await submitAndWait(address, scheduler, sweepYaml('throughput', TRIVIAL, runs), 'throughput');
      fake.kill();
      return runs / seconds;
    });
    log(
      `Coordinator throughput, ${runs} trivial runs, 8 simulated worker sessions x 4 slots: ` +
        `**${throughput.toFixed(0)} runs/s** leased and recorded (target >= 500/s)`,
    );
    log('');

    // the three set-ups in turn, fastest of REPS each: this machine's neighbours come and go
    const seeds = 16;
    const yaml = sweepYaml('scaling', CPU_BOUND, seeds);
    const embeddedRate = async (rep: number): Promise<number> => {
      const file = join(dir, `embedded-${rep}.db`);
      const db = openStore(file);
      const scheduler = new Scheduler(db, { file });
      const pool = new SimulationPool(2);
      await pool.run('0'.repeat(64), '{}').catch(() => undefined);
      const t0 = performance.now();
      const spec = parseSweepText(yaml, 'scaling.yaml');
      const { sweepId } = scheduler.submit(spec, expandSweep(spec));
      await runEmbedded({ scheduler, sweepId, pool });
      const rate = seeds / ((performance.now() - t0) / 1000);
      await pool.destroy();
      scheduler.close();
      db.close();
      return rate;
    };
    const distributedRate = (label: string, threads: number[], rep: number): Promise<number> =>
      withCoordinator(dir, `${label.replace(/\W+/g, '-')}-${rep}`, async (address, scheduler) => {
        const nodes = await agents(address, threads);
        await new Promise((resolve) => setTimeout(resolve, 300)); // sessions open
        const seconds = await submitAndWait(address, scheduler, yaml, 'scaling');
        await nodes.stop();
        return seeds / seconds;
      });
    const rates: Array<[string, number]> = [
      ['embedded, 2 threads', 0],
      ['1 worker x 2 threads', 0],
      ['2 workers x 1 thread', 0],
    ];
    for (let rep = 0; rep < REPS; rep++) {
      rates[0][1] = Math.max(rates[0][1], await embeddedRate(rep));
      rates[1][1] = Math.max(rates[1][1], await distributedRate(rates[1][0], [2], rep));
      rates[2][1] = Math.max(rates[2][1], await distributedRate(rates[2][0], [1, 1], rep));
    }
    const embedded = rates[0][1];
    log(`| ${seeds} CPU-bound runs (fastest of ${REPS}) | runs/s | vs embedded | target |`);
    log('|---|--:|--:|---|');
    for (const [label, rate] of rates)
      log(
        `| ${label} | ${rate.toFixed(2)} | ${(rate / embedded).toFixed(3)} | ` +
          `${label.startsWith('embedded') ? '' : '>= 0.9'} |`,
      );
    log('');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
