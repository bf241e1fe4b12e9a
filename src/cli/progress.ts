/**
 * Progress of a sweep from the scheduler's events: on a TTY one redrawn status line (bar,
 * done/failed/running counts, runs per minute, ETA); elsewhere one line per finished run, so
 * logs of batch jobs stay readable.
 */
import type { SchedulerEvent } from '../coordinator/scheduler.ts';
import type { EpochMetrics } from '../core/train.ts';
import type { Counts } from '../store/queue.ts';
import { formatDuration } from '../report/format.ts';

export interface ProgressOptions {
  sweep: string;
  /** counts when the run started (runs already done count as done) */
  counts: Counts;
  /** a short label of each run of the sweep (hash -> "algorithm=ttv2 seed=1") */
  labels: Map<string, string>;
  out: NodeJS.WriteStream;
  now?: () => number;
}

function metricText(m: EpochMetrics | undefined): string {
  if (!m) return '';
  if (m.test_accuracy !== undefined) return `test_accuracy=${(m.test_accuracy * 100).toFixed(2)}%`;
  if (m.weight_error !== undefined) return `weight_error=${m.weight_error.toExponential(3)}`;
  return `train_loss=${m.train_loss.toExponential(3)}`;
}

export class ProgressDisplay {
  private readonly o: ProgressOptions;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly t0: number;
  private readonly total: number;
  private done: number;
  private failed: number;
  /** runs that reported their first epoch and have not finished (leased runs may still wait in the pool) */
  private readonly running = new Set<string>();
  private finishedHere = 0;
  private timer: NodeJS.Timeout | undefined;
  /** interrupted (Ctrl-C): the bar is frozen and nothing is drawn over the message after it */
  private frozen = false;

  constructor(o: ProgressOptions) {
    this.o = o;
    this.tty = o.out.isTTY === true;
    this.now = o.now ?? Date.now;
    this.t0 = this.now();
    this.total = o.counts.queued + o.counts.running + o.counts.done + o.counts.failed;
    this.done = o.counts.done;
    this.failed = o.counts.failed;
    if (this.tty) {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  readonly onEvent = (e: SchedulerEvent): void => {
    if (e.kind === 'progress') this.running.add(e.lease.hash);
    else if (e.kind === 'finished') {
      this.running.delete(e.lease.hash);
      this.finishedHere++;
      if (e.status === 'done') this.done++;
      else this.failed++;
      if (!this.tty) {
        const label = this.o.labels.get(e.lease.hash) ?? e.lease.hash.slice(0, 12);
        const what = e.status === 'done' ? metricText(e.final) : `FAILED: ${e.error ?? ''}`;
        this.o.out.write(`[${this.done + this.failed}/${this.total}] ${e.status.padEnd(6)} ${label}  ${what}\n`);
      }
    } else if (e.kind === 'rejected') {
      this.o.out.write(
        `${this.tty && !this.frozen ? '\r\x1b[K' : ''}warning: ${e.what} for run ${e.lease.hash.slice(0, 12)} ` +
          `rejected: ${e.reason}\n`,
      );
    }
  };

  private line(): string {
    const finished = this.done + this.failed;
    const width = 24;
    const filled = this.total === 0 ? width : Math.round((finished / this.total) * width);
    const elapsed = this.now() - this.t0;
    const perMin = elapsed > 0 ? (this.finishedHere / elapsed) * 60_000 : 0;
    const remaining = this.total - finished;
    const eta =
      this.finishedHere > 0 && remaining > 0
        ? formatDuration((remaining / this.finishedHere) * elapsed)
        : remaining === 0
          ? 'done'
          : '?';
    return (
      `${this.o.sweep} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${finished}/${this.total}` +
      `  done ${this.done}  failed ${this.failed}  running ${this.running.size}  ${perMin.toFixed(1)} runs/min ` +
      ` ETA ${eta}`
    );
  }

  private draw(): void {
    if (!this.frozen) this.o.out.write(`\r\x1b[K${this.line()}`);
  }

  /**
   * Ctrl-C: the bar's last state ends its line (TTY), then `message`; from here on nothing is
   * drawn, so the message stays the last thing on the screen until the command's own last words.
   */
  interrupt(message: string): void {
    if (this.frozen) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.o.out.write(this.tty ? `\r\x1b[K${this.line()}\n${message}` : message);
    this.frozen = true;
  }

  /** Final status line (TTY: replaces the bar; nothing after an interrupt, which drew it). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty && !this.frozen) this.o.out.write(`\r\x1b[K${this.line()}\n`);
    this.frozen = true;
  }
}
