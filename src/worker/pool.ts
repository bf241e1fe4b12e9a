/**
 * The piscina thread pool of the simulation core, shared by the embedded runner and the worker
 * node agent: a leased run in, its RunResult out, per-epoch metrics streamed back through a
 * MessagePort while it trains. Aborting a run terminates its thread (piscina replaces it).
 */
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { EpochMetrics, RunResult } from '../core/train.ts';
import type { SimulateTask } from '../../workers/simulate.ts';

/** workers/simulate next to this build: .ts under tsx, .js under dist/. */
function taskFile(): string {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`../../workers/simulate${ext}`, import.meta.url).href;
}

/**
 * Leases held per thread: one running plus one waiting in the pool's queue, so a thread that
 * finishes starts its next run without waiting for the main thread to store the result and
 * lease again (pool efficiency 0.82 -> 0.93 with 2 threads on 2 cores, bench/sweep.ts).
 */
export const LEASES_PER_THREAD = 2;

export function defaultThreads(): number {
  return availableParallelism();
}

export class SimulationPool {
  readonly threads: number;
  private readonly pool: Piscina<SimulateTask, RunResult>;

  constructor(threads: number = defaultThreads()) {
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`threads must be a positive integer, got ${threads}`);
    this.threads = threads;
    // idle threads stay: a sweep keeps them busy and each holds its cached dataset
    this.pool = new Piscina({ filename: taskFile(), minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
    // Errors no task owns. piscina emits one when a run aborted just as its thread posted the
    // result (that result arrives for a task already settled by the abort: dropping it is what
    // the abort asked for), or when an idle thread dies (piscina starts another). Neither loses a
    // run, and an 'error' event without a listener would end the process with a trace.
    this.pool.on('error', (err: unknown) => {
      if (err instanceof Error && err.message.startsWith('Unexpected message from Worker')) return;
      process.stderr.write(
        `aimc-sweep: a simulation thread failed outside any run (replaced): ` +
          `${err instanceof Error ? err.message : String(err)}\n`,
      );
    });
  }

  /** Runs one leased config; rejects with the run's error, or an AbortError when aborted. */
  async run(
    hash: string,
    configJson: string,
    onEpoch?: (m: EpochMetrics) => void,
    signal?: AbortSignal,
  ): Promise<RunResult> {
    if (!onEpoch) return this.pool.run({ hash, configJson }, { signal });
    const { port1, port2 } = new MessageChannel();
    // the task posts null after its last epoch: the result may overtake the epochs on the port
    let drainedResolve: () => void = () => {};
    const drained = new Promise<void>((resolve) => (drainedResolve = resolve));
    port1.on('message', (m: EpochMetrics | null) => (m === null ? drainedResolve() : onEpoch(m)));
    try {
      const result = await this.pool.run({ hash, configJson, progress: port2 }, { transferList: [port2], signal });
      await drained;
      return result;
    } finally {
      port1.close();
    }
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}
