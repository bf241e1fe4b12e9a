/**
 * Wire messages <-> our types, every mapping in one place: leases, metrics and results (worker
 * <-> coordinator), a worker's registration, and the status and watched runs a coordinator
 * serves (coordinator <-> CLI). Metrics cross as proto3 `optional double`s (absent stays
 * absent, NaN stays NaN so the coordinator can see a diverged run), pulses as a map. What comes
 * from a peer is checked or left for the store to refuse; configs never cross from a worker.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { EPOCH_METRICS } from '../core/tasks/run-result.ts';
import type { EpochMetrics, RunResult } from '../core/tasks/run-result.ts';
import {
  type EpochMetrics as EpochMetricsMsg,
  EpochMetricsSchema,
  type LeaseRef as LeaseRefMsg,
  type RunResult as RunResultMsg,
  RunResultSchema,
  RunStatus as RunStatusMsg,
} from '../gen/aimcsweep/v1/run_pb.ts';
import type {
  GetStatusResponse,
  GetStatusResponseSchema,
  RunEventSchema,
  SweepStatusSchema,
  WatchResponse,
} from '../gen/aimcsweep/v1/sweep_pb.ts';
import type { RegisterRequest, RegisterRequestSchema } from '../gen/aimcsweep/v1/worker_pb.ts';
import type { StatusReport, SweepStatus } from '../report/status.ts';
import type { Provenance } from '../store/provenance.ts';
import type { LeaseRef, ReportedResult } from '../store/queue.ts';

const OPTIONAL_METRICS = [...EPOCH_METRICS, 'wall_ms'] as const;
type OptionalMetric = (typeof OPTIONAL_METRICS)[number];

/** Each metric's field of the wire message (a metric added to EPOCH_METRICS must be named here). */
const WIRE_FIELD = {
  train_loss: 'trainLoss',
  weight_error: 'weightError',
  step_loss: 'stepLoss',
  step_weight_error: 'stepWeightError',
  train_accuracy: 'trainAccuracy',
  test_loss: 'testLoss',
  test_accuracy: 'testAccuracy',
  update_ns: 'updateNs',
  energy_nj: 'energyNj',
  storage_bytes: 'storageBytes',
  wall_ms: 'wallMs',
} as const satisfies Record<OptionalMetric, keyof EpochMetricsMsg>;

export function epochToWire(m: EpochMetrics): MessageInitShape<typeof EpochMetricsSchema> {
  const out: MessageInitShape<typeof EpochMetricsSchema> = { epoch: m.epoch, pulses: { ...m.pulses } };
  for (const k of OPTIONAL_METRICS) out[WIRE_FIELD[k]] = m[k];
  return out;
}

/** An epoch from a peer; a missing train_loss stays missing (the store rejects the record). */
export function epochFromWire(m: EpochMetricsMsg): EpochMetrics {
  const out = { epoch: m.epoch, pulses: { ...m.pulses } } as EpochMetrics;
  for (const k of OPTIONAL_METRICS) {
    const v = m[WIRE_FIELD[k]];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export function resultToWire(r: RunResult): MessageInitShape<typeof RunResultSchema> {
  return {
    numericsVersion: r.numerics_version,
    history: r.history.map((m) => create(EpochMetricsSchema, epochToWire(m))),
    weightsDigest: r.weights_digest,
    wallMs: r.wall_ms,
  };
}

/** A reported result as the store takes it (the config is the coordinator's own, never the peer's). */
export function resultFromWire(r: RunResultMsg): ReportedResult {
  const result: ReportedResult = {
    numerics_version: r.numericsVersion,
    history: r.history.map(epochFromWire),
    weights_digest: r.weightsDigest,
  };
  if (r.wallMs !== undefined) result.wall_ms = r.wallMs;
  return result;
}

/** A lease reference from a peer, checked: a 64-hex run hash and a positive attempt. */
export function leaseFromWire(l: LeaseRefMsg | undefined): LeaseRef | undefined {
  if (!l || !/^[0-9a-f]{64}$/.test(l.runHash) || l.attempt < 1) return undefined;
  return { hash: l.runHash, attempt: l.attempt };
}

export function leaseToWire(l: LeaseRef): { runHash: string; attempt: number } {
  return { runHash: l.hash, attempt: l.attempt };
}

// ---- registration ---------------------------------------------------------------------------

/** A worker's registration: who it is, its slots (threads) and its versions (from its provenance). */
export function registrationToWire(
  w: { name: string; host: string; slots: number },
  p: Provenance,
): MessageInitShape<typeof RegisterRequestSchema> {
  return {
    name: w.name,
    host: w.host,
    slots: w.slots,
    packageVersion: p.package_version,
    numericsVersion: p.numerics_version,
    nodeVersion: p.node_version,
  };
}

/** The versions a worker announced, as a provenance record (what it does not say: unknown). */
export function provenanceFromWire(req: RegisterRequest): Provenance {
  return {
    package_version: req.packageVersion || 'unknown',
    numerics_version: req.numericsVersion,
    git_commit: '',
    node_version: req.nodeVersion || 'unknown',
    host: req.host || '?',
    platform: '',
  };
}

// ---- status (coordinator -> CLI) ------------------------------------------------------------

export function sweepStatusToWire(s: SweepStatus): MessageInitShape<typeof SweepStatusSchema> & {
  counts: { queued: number; running: number; done: number; failed: number };
} {
  return {
    name: s.name,
    counts: { queued: s.queued, running: s.running, done: s.done, failed: s.failed },
    runsPerMinute: s.runsPerMinute,
    etaSeconds: s.etaMs === null ? undefined : s.etaMs / 1000,
  };
}

/**
 * A coordinator's status: the report from its database, with each worker's running leases
 * (`running`) and whether its session is open now (`connected`, which only the coordinator knows).
 */
export function statusToWire(
  report: StatusReport,
  running: ReadonlyMap<string, number>,
  connected: (workerId: string) => boolean,
): MessageInitShape<typeof GetStatusResponseSchema> {
  return {
    sweeps: report.sweeps.map(sweepStatusToWire),
    workers: report.workers.map((w) => ({
      workerId: w.id,
      name: w.name,
      host: w.host,
      slots: w.slots,
      freeSlots: w.free_slots,
      running: running.get(w.id) ?? 0,
      lastHeartbeatUnixMs: BigInt(w.last_heartbeat_at),
      connected: connected(w.id),
    })),
  };
}

/**
 * A coordinator's status as `status` shows it, received at `now`. A worker's free slots are
 * its idle threads: the leases it holds, running or queued, take its threads first.
 */
export function statusFromWire(r: GetStatusResponse, now: number): StatusReport {
  return {
    now,
    sweeps: r.sweeps.map((s) => {
      const c = s.counts ?? { queued: 0, running: 0, done: 0, failed: 0 };
      const total = c.queued + c.running + c.done + c.failed;
      return {
        name: s.name,
        total,
        queued: c.queued,
        running: c.running,
        done: c.done,
        failed: c.failed,
        progress: total === 0 ? 100 : (100 * (c.done + c.failed)) / total,
        runsPerMinute: s.runsPerMinute,
        etaMs: s.etaSeconds === undefined ? null : s.etaSeconds * 1000,
      };
    }),
    workers: r.workers.map((w) => ({
      id: w.workerId,
      name: w.name,
      host: w.host,
      slots: w.slots,
      free_slots: w.connected ? Math.max(0, w.slots - w.running) : 0,
      connected: w.connected,
      registered_at: 0,
      last_heartbeat_at: Number(w.lastHeartbeatUnixMs),
      heartbeatAgeMs: now - Number(w.lastHeartbeatUnixMs),
    })),
  };
}

/** A run of a watched sweep that ended. */
export function runEventToWire(
  lease: LeaseRef,
  status: 'done' | 'failed',
  error: string | undefined,
): MessageInitShape<typeof RunEventSchema> & { runHash: string } {
  return {
    runHash: lease.hash,
    status: status === 'done' ? RunStatusMsg.DONE : RunStatusMsg.FAILED,
    error: error ?? '',
    attempt: lease.attempt,
  };
}

/** One update of a watched sweep as `submit --wait` follows it. */
export interface WatchUpdate {
  /** the sweep's runs by state after the update */
  counts: { queued: number; running: number; done: number; failed: number };
  /** the run whose end brought the update; absent in the first snapshot */
  run?: { lease: LeaseRef; status: 'done' | 'failed'; error: string };
}

/** An update of a watched sweep; undefined for one without counts (nothing to show). */
export function watchUpdateFromWire(u: WatchResponse): WatchUpdate | undefined {
  const c = u.sweep?.counts;
  if (!c) return undefined;
  const counts = { queued: c.queued, running: c.running, done: c.done, failed: c.failed };
  if (!u.run) return { counts };
  const { runHash, attempt, status, error } = u.run;
  return {
    counts,
    run: { lease: { hash: runHash, attempt }, status: status === RunStatusMsg.DONE ? 'done' : 'failed', error },
  };
}
