/**
 * Parsing and expanding a sweep off the event loop: the coordinator's Submit hands the YAML to
 * one worker thread (expand-worker.ts), one sweep at a time, so that heartbeats, leases and
 * status calls go on being answered while a large sweep (up to maxRuns combinations: 100,000
 * take seconds) is expanded. The thread is started on first use and kept; one that runs past
 * `timeoutMs` or dies is terminated, and the next sweep gets a fresh one.
 */
import { Worker } from 'node:worker_threads';
import type { Expansion } from './expand.ts';
import { SweepError, type SweepSpec } from './spec.ts';

export interface ExpandRequest {
  id: number;
  text: string;
  file: string;
  maxRuns: number;
}

export type ExpandReply =
  | { id: number; ok: true; spec: SweepSpec; expansion: Expansion }
  | { id: number; ok: false; sweepError: boolean; message: string };

/** Why the expander did not expand a sweep, other than the sweep's own errors (SweepError). */
export class ExpanderError extends Error {
  readonly reason: 'busy' | 'timeout' | 'failed' | 'closed';

  constructor(reason: ExpanderError['reason'], message: string) {
    super(message);
    this.name = 'ExpanderError';
    this.reason = reason;
  }
}

export interface SweepExpanderOptions {
  /** refuse sweeps of more combinations than this */
  maxRuns: number;
  /** a sweep still expanding after this long is abandoned (its thread terminated); default 120 s */
  timeoutMs?: number;
  /** sweeps waiting behind the one expanding; more are refused as busy (default 8) */
  maxQueued?: number;
  /** heap limit of the thread (MB; default 2048): a thread over it dies, the process does not */
  maxHeapMb?: number;
}

interface Job {
  req: ExpandRequest;
  resolve: (r: { spec: SweepSpec; expansion: Expansion }) => void;
  reject: (e: Error) => void;
}

/** worker file next to this build: .ts under tsx, .js under dist/ */
function workerFile(): URL {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./expand-worker${ext}`, import.meta.url);
}

/**
 * The thread's code: imports the worker module. Run from source (tsx, tests), the .ts module
 * needs tsx's loader, which a worker thread does not inherit: it is registered there first.
 * Messages wait in the thread's port until the module listens.
 */
function bootstrap(): string {
  const file = workerFile();
  const load = `import(${JSON.stringify(file.href)})`;
  if (!file.pathname.endsWith('.ts')) return `${load}.catch((e) => { throw e; });`;
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return `import(${tsx}).then((m) => { m.register(); return ${load}; }).catch((e) => { throw e; });`;
}

export class SweepExpander {
  private readonly o: Required<SweepExpanderOptions>;
  private worker: Worker | undefined;
  private readonly queue: Job[] = [];
  private current: { job: Job; timer: NodeJS.Timeout } | undefined;
  private nextId = 1;
  private closed = false;

  constructor(o: SweepExpanderOptions) {
    this.o = {
      maxRuns: o.maxRuns,
      timeoutMs: o.timeoutMs ?? 120_000,
      maxQueued: o.maxQueued ?? 8,
      maxHeapMb: o.maxHeapMb ?? 2048,
    };
  }

  /** Parses and expands `text` (named `file` in errors) in the thread; rejects with SweepError or ExpanderError. */
  expand(text: string, file: string): Promise<{ spec: SweepSpec; expansion: Expansion }> {
    if (this.closed) return Promise.reject(new ExpanderError('closed', 'the coordinator is shutting down'));
    if (this.queue.length >= this.o.maxQueued) {
      return Promise.reject(
        new ExpanderError('busy', `${this.queue.length + 1} sweeps are being expanded already; submit again later`),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { id: this.nextId++, text, file, maxRuns: this.o.maxRuns }, resolve, reject });
      this.pump();
    });
  }

  /** Terminates the thread; sweeps waiting or expanding are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = [...this.queue.splice(0), ...(this.current ? [this.current.job] : [])];
    if (this.current) clearTimeout(this.current.timer);
    this.current = undefined;
    for (const job of pending) job.reject(new ExpanderError('closed', 'the coordinator is shutting down'));
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(bootstrap(), {
      eval: true,
      resourceLimits: { maxOldGenerationSizeMb: this.o.maxHeapMb, maxYoungGenerationSizeMb: 64 },
    });
    w.unref();
    w.on('message', (reply: ExpandReply) => this.onReply(reply));
    w.on('error', (e) => this.onDeath(w, `the expanding thread failed: ${e.message}`));
    w.on('exit', (code) => this.onDeath(w, `the expanding thread exited (code ${code})`));
    this.worker = w;
    return w;
  }

  private pump(): void {
    if (this.current || this.closed) return;
    const job = this.queue.shift();
    if (!job) return;
    const timer = setTimeout(() => {
      if (this.current?.job !== job) return;
      const w = this.worker;
      this.worker = undefined;
      this.current = undefined;
      const limit = this.o.timeoutMs >= 1000 ? `${Math.round(this.o.timeoutMs / 1000)} s` : `${this.o.timeoutMs} ms`;
      job.reject(
        new ExpanderError('timeout', `expanding the sweep took longer than ${limit}; split it into smaller sweeps`),
      );
      void w?.terminate();
      this.pump();
    }, this.o.timeoutMs);
    timer.unref();
    this.current = { job, timer };
    try {
      this.thread().postMessage(job.req);
    } catch (e) {
      this.onDeath(this.worker, `cannot start the expanding thread: ${(e as Error).message}`);
    }
  }

  private onReply(reply: ExpandReply): void {
    const cur = this.current;
    if (!cur || cur.job.req.id !== reply.id) return;
    clearTimeout(cur.timer);
    this.current = undefined;
    if (reply.ok) cur.job.resolve({ spec: reply.spec, expansion: reply.expansion });
    else cur.job.reject(reply.sweepError ? new SweepError(reply.message) : new ExpanderError('failed', reply.message));
    this.pump();
  }

  private onDeath(w: Worker | undefined, message: string): void {
    if (w !== undefined && w !== this.worker) return; // a terminated thread's exit
    this.worker = undefined;
    const cur = this.current;
    this.current = undefined;
    if (cur) {
      clearTimeout(cur.timer);
      cur.job.reject(new ExpanderError('failed', message));
    }
    this.pump();
  }
}
