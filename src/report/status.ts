/**
 * Where the sweeps of a results database stand: counts by state, progress, throughput over the
 * last minutes and the time left at that pace, and the workers the coordinator knows. The
 * report is plain data so that a coordinator can serve the same shape (`status --coordinator`).
 */
import type { Db } from '../store/open.ts';
import { listWorkers, sweepProgress, type WorkerRow } from '../store/results-read.ts';
import { formatDuration, textTable } from './format.ts';

/** Throughput is measured over this window. */
export const THROUGHPUT_WINDOW_MS = 10 * 60_000;

export interface SweepStatus {
  name: string;
  total: number;
  queued: number;
  running: number;
  done: number;
  failed: number;
  /** finished (done or failed) / total, 0..100 */
  progress: number;
  /** runs finished per minute over the window (0 when none finished in it) */
  runsPerMinute: number;
  /** ms until queued and running runs finish at that pace; 0 when none is left, null when unknown */
  etaMs: number | null;
}

export interface WorkerStatus extends WorkerRow {
  /** ms since the last heartbeat */
  heartbeatAgeMs: number;
}

export interface StatusReport {
  now: number;
  sweeps: SweepStatus[];
  workers: WorkerStatus[];
}

/**
 * The status at time `now` (ms). Throughput counts the runs finished within the last
 * THROUGHPUT_WINDOW_MS, over the time since the earliest of them started (a sweep started two
 * minutes ago is measured over two minutes, not ten).
 */
export function statusReport(db: Db, now: number): StatusReport {
  const since = now - THROUGHPUT_WINDOW_MS;
  const sweeps = sweepProgress(db, since).map((s): SweepStatus => {
    const measured = Math.max(now - (s.recent_first_start ?? since), 1000);
    const span = s.recent === 0 ? THROUGHPUT_WINDOW_MS : Math.min(THROUGHPUT_WINDOW_MS, measured);
    const runsPerMinute = (s.recent * 60_000) / span;
    const left = s.queued + s.running;
    return {
      name: s.name,
      total: s.total,
      queued: s.queued,
      running: s.running,
      done: s.done,
      failed: s.failed,
      progress: s.total === 0 ? 100 : (100 * (s.done + s.failed)) / s.total,
      runsPerMinute,
      etaMs: left === 0 ? 0 : runsPerMinute > 0 ? (left / runsPerMinute) * 60_000 : null,
    };
  });
  const workers = listWorkers(db).map((w) => ({ ...w, heartbeatAgeMs: now - w.last_heartbeat_at }));
  return { now, sweeps, workers };
}

export function formatStatus(r: StatusReport, source: string): string {
  if (r.sweeps.length === 0) return `${source}: no sweeps yet\n`;
  const workerCount = r.workers.length ? `, ${r.workers.length} worker${r.workers.length === 1 ? '' : 's'}` : '';
  const head = `${source}: ${r.sweeps.length} sweep${r.sweeps.length === 1 ? '' : 's'}${workerCount}\n`;
  const sweeps = textTable(
    ['sweep', 'runs', 'queued', 'running', 'done', 'failed', 'progress', 'runs/min', 'ETA'],
    r.sweeps.map((s) => [
      s.name,
      String(s.total),
      String(s.queued),
      String(s.running),
      String(s.done),
      String(s.failed),
      `${s.progress.toFixed(1)} %`,
      s.runsPerMinute > 0 ? s.runsPerMinute.toFixed(s.runsPerMinute >= 10 ? 0 : 1) : '-',
      s.etaMs === 0 ? 'finished' : s.etaMs === null ? '?' : formatDuration(s.etaMs),
    ]),
    [false, true, true, true, true, true, true, true, true],
  );
  if (r.workers.length === 0) return head + sweeps;
  const workers = textTable(
    ['worker', 'name', 'host', 'slots', 'free', 'connected', 'last heartbeat'],
    r.workers.map((w) => [
      w.id,
      w.name,
      w.host,
      String(w.slots),
      String(w.free_slots),
      w.connected ? 'yes' : 'no',
      `${formatDuration(w.heartbeatAgeMs)} ago`,
    ]),
    [false, false, false, true, true, false, false],
  );
  return `${head}${sweeps}\n${workers}`;
}
