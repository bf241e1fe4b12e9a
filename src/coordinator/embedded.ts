/**
 * Embedded mode: the scheduler with one in-process worker that leases runs of one sweep onto
 * the local thread pool. This is the coordinator path with the network taken out, not a second
 * scheduler: leases, attempts, results and failures go through the same Scheduler calls a
 * remote worker's messages do.
 *
 * A write the store refuses (the writer lock taken over by another process, a full disk) ends
 * the sweep at once: the runs in flight are terminated and the promise rejects with that error.
 * Nothing escapes as an uncaught exception, the epoch callbacks of the pool included.
 */
import type { EpochMetrics } from '../core/train.ts';
import type { Lease } from '../store/queue.ts';
import { LEASES_PER_THREAD, type SimulationPool } from '../worker/pool.ts';
import type { Scheduler } from './scheduler.ts';

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
  const worker = `local:${scheduler.owner}`;
  const inflight = new Map<string, AbortController>();

  return new Promise<EmbeddedOutcome>((resolve, reject) => {
    let stopping = signal?.aborted ?? false;
    let settled = false;
    const finish = (outcome: EmbeddedOutcome | Error): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      scheduler.failed.removeEventListener('abort', onFailed);
      if (outcome instanceof Error) {
        // the store cannot take their results: stop computing them
        for (const abort of inflight.values()) abort.abort();
        reject(outcome);
      } else resolve(outcome);
    };
    const fatal = (e: unknown): void => finish(e instanceof Error ? e : new Error(String(e)));

    const start = (lease: Lease): void => {
      const ref = { hash: lease.hash, attempt: lease.attempt };
      const abort = new AbortController();
      inflight.set(lease.hash, abort);
      let finished = false;
      const onEpoch = (m: EpochMetrics): void => {
        if (finished || settled) return;
        try {
          scheduler.progress(worker, ref, m);
        } catch (e) {
          fatal(e); // called from the pool's message port: throwing here would be uncaught
        }
      };
      pool
        .run(lease.hash, lease.configJson, onEpoch, abort.signal)
        .then(
          (result) => {
            if (settled) return;
            // a result the store refuses (malformed: a bug, not a peer) must not leave the run leased
            const verdict = scheduler.complete(worker, ref, result);
            if (!verdict.accepted) scheduler.fail(worker, ref, `result rejected: ${verdict.reason}`);
          },
          (e: unknown) => {
            if (settled) return;
            if (abort.signal.aborted) scheduler.release(worker, ref);
            else scheduler.fail(worker, ref, errorMessage(e));
          },
        )
        .then(() => {
          finished = true;
          inflight.delete(lease.hash);
          pump();
        })
        .catch(fatal);
    };

    // keeps every thread busy with a leased run; done when nothing is leased or queued
    const pump = (): void => {
      if (settled) return;
      if (!stopping) {
        for (const lease of scheduler.lease(worker, LEASES_PER_THREAD * pool.threads - inflight.size, sweepId))
          start(lease);
      }
      if (inflight.size === 0) finish({ interrupted: stopping });
    };

    const onAbort = (): void => {
      stopping = true;
      for (const abort of inflight.values()) abort.abort();
      try {
        pump();
      } catch (e) {
        fatal(e);
      }
    };
    const onFailed = (): void => fatal(scheduler.failed.reason);
    signal?.addEventListener('abort', onAbort);
    if (scheduler.failed.aborted) return onFailed();
    scheduler.failed.addEventListener('abort', onFailed);
    try {
      pump();
    } catch (e) {
      fatal(e);
    }
  });
}
