/**
 * Embedded mode: the scheduler with one in-process worker that leases runs of one sweep onto
 * the local thread pool. This is the coordinator path with the network taken out, not a second
 * scheduler: leases, attempts, results and failures go through the same Scheduler calls a
 * remote worker's messages do.
 */
import type { EpochMetrics } from '../core/train.ts';
import type { Lease } from '../store/run-queue.ts';
import { LEASES_PER_THREAD, type SimulationPool } from '../worker/pool.ts';
import { processOwner, type Scheduler } from './scheduler.ts';

export interface EmbeddedOptions {
  scheduler: Scheduler;
  sweepId: number;
  pool: SimulationPool;
  /** aborting stops leasing, terminates the runs in flight and hands their leases back */
  signal?: AbortSignal;
}

export interface EmbeddedOutcome {
  interrupted: boolean;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs every queued run of the sweep; resolves when none is left (or when interrupted). */
export function runEmbedded(options: EmbeddedOptions): Promise<EmbeddedOutcome> {
  const { scheduler, sweepId, pool, signal } = options;
  const worker = `local:${processOwner()}`;
  const inflight = new Map<string, AbortController>();

  return new Promise<EmbeddedOutcome>((resolve, reject) => {
    let stopping = signal?.aborted ?? false;
    let settled = false;
    const finish = (outcome: EmbeddedOutcome | Error): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };

    const start = (lease: Lease): void => {
      const ref = { hash: lease.hash, attempt: lease.attempt };
      const abort = new AbortController();
      inflight.set(lease.hash, abort);
      let finished = false;
      const onEpoch = (m: EpochMetrics): void => {
        if (!finished) scheduler.progress(worker, ref, m);
      };
      pool
        .run(lease.hash, lease.configJson, onEpoch, abort.signal)
        .then(
          (result) => {
            // a result the store refuses (malformed: a bug, not a peer) must not leave the run leased
            const verdict = scheduler.complete(worker, ref, result);
            if (!verdict.accepted) scheduler.fail(worker, ref, `result rejected: ${verdict.reason}`);
          },
          (e: unknown) => (abort.signal.aborted ? scheduler.release(worker, ref) : scheduler.fail(worker, ref, errorMessage(e))),
        )
        .then(() => {
          finished = true;
          inflight.delete(lease.hash);
          pump();
        })
        .catch((e: unknown) => finish(e instanceof Error ? e : new Error(String(e))));
    };

    // keeps every thread busy with a leased run; done when nothing is leased or queued
    const pump = (): void => {
      if (settled) return;
      if (!stopping) {
        for (const lease of scheduler.lease(worker, LEASES_PER_THREAD * pool.threads - inflight.size, sweepId)) start(lease);
      }
      if (inflight.size === 0) finish({ interrupted: stopping });
    };

    const onAbort = (): void => {
      stopping = true;
      for (const abort of inflight.values()) abort.abort();
      pump();
    };
    signal?.addEventListener('abort', onAbort);
    try {
      pump();
    } catch (e) {
      finish(e instanceof Error ? e : new Error(String(e)));
    }
  });
}
