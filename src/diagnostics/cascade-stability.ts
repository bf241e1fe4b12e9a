/**
 * Stability of the transfer cascade of multi-tile residual learning, as a linear periodic system.
 *
 * K tiles W_0..W_{K-1} (tile 0 the gradient tile) make the composite wbar = sum_i g_i W_i with
 * g_i = gamma^(K-1-i). Per element and per vector update (step t = 1, 2, ...) the expected,
 * linearised dynamics with target 0 are: first W_0 <- W_0 - gain * wbar, then for j = 0..K-2 in
 * ascending order, if t is a transfer step of level j (t = offset_j, offset_j + period_j, ...),
 * W_{j+1} <- W_{j+1} + lr_j * W_j with the values already updated in this step. Ignored: device
 * bounds and the soft-bound leak, quantisation, noise, the warm start.
 *
 * The map is linear with period L = lcm(period_j), so the cascade is stable exactly when the
 * spectral radius of the map over L steps is below 1 (Floquet); reported per slowest period P =
 * max(period_j) as radius(M_L)^(P / L), so > 1 means the deviation grows per slowest transfer.
 * M_L is built event by event: between transfers only the gradient tile moves, in closed form,
 * so the cost is the number of transfer events per hyper-period, not L. In float64 radii near 1
 * come out to ~1e-15; maps that decay by hundreds of decades over L keep fewer digits (~1e-9).
 */

/** The linearised cascade of one weight element. */
export interface CascadeModel {
  /** ratio of the significance of neighbouring tiles, g_i = gamma^(K-1-i) */
  gamma: number;
  /** number of tiles K */
  tiles: number;
  /** gradient-step gain: W_0 <- W_0 - gain * (wbar - target) (2 lr for the loss (w - b)^2) */
  gain: number;
  /** transfers of level j = 0..K-2, from tile j into tile j + 1; every `period` steps, first at step `offset` */
  transfers: Array<{ lr: number; period: number; offset: number }>;
}

export interface CascadeStability {
  /** spectral radius of the map over one slowest period (> 1: unstable) */
  radius: number;
  /** steps of the slowest clock, max(period_j); 1 for a single tile (radius = |1 - gain| per step) */
  period: number;
}

/** Most transfer events per hyper-period cascadeStability builds the map from. */
export const MAX_EVENTS = 1_000_000;

const SQUARINGS = 60;
/** The running product is rescaled by a power of two when its largest entry leaves [2^-LIMIT, 2^LIMIT]. */
const LIMIT = 256;

/**
 * Spectral radius of the cascade map over one slowest period. Throws an Error on invalid input,
 * and a RangeError when the hyper-period has more than MAX_EVENTS transfer events (or is not a
 * safe integer) rather than running for minutes.
 */
export function cascadeStability(m: CascadeModel): CascadeStability {
  validate(m);
  const k = m.tiles;
  const g = Float64Array.from({ length: k }, (_, i) => m.gamma ** (k - 1 - i));
  if (k === 1) return { radius: Math.abs(1 - m.gain * g[0]), period: 1 };
  const periods = m.transfers.map((t) => t.period);
  const hyper = hyperPeriod(periods);
  const map = periodMap(m, g, hyper);
  const logRho = map.logScale + logSpectralRadius(map.matrix, k);
  const period = Math.max(...periods);
  return { radius: Math.exp((logRho * period) / hyper), period };
}

function validate(m: CascadeModel): void {
  if (!Number.isInteger(m.tiles) || m.tiles < 1)
    throw new Error(`cascade: tiles must be an integer >= 1, got ${m.tiles}`);
  if (!Number.isFinite(m.gamma) || m.gamma <= 0)
    throw new Error(`cascade: gamma must be a finite number > 0, got ${m.gamma}`);
  if (!Number.isFinite(m.gain) || m.gain < 0)
    throw new Error(`cascade: gain must be a finite number >= 0, got ${m.gain}`);
  if (m.transfers.length !== m.tiles - 1)
    throw new Error(`cascade: ${m.tiles} tiles need ${m.tiles - 1} transfers, got ${m.transfers.length}`);
  m.transfers.forEach(({ lr, period, offset }, j) => {
    if (!Number.isFinite(lr)) throw new Error(`cascade: transfer ${j}: lr must be a finite number, got ${lr}`);
    if (!Number.isSafeInteger(period) || period < 1)
      throw new Error(`cascade: transfer ${j}: period must be an integer >= 1, got ${period}`);
    if (!Number.isSafeInteger(offset) || offset < 1 || offset > period) {
      throw new Error(`cascade: transfer ${j}: offset must be an integer in [1, period = ${period}], got ${offset}`);
    }
  });
}

/** lcm of the periods; RangeError when it is not a safe integer or holds more than MAX_EVENTS events. */
function hyperPeriod(periods: number[]): number {
  const lcm = periods.reduce((l, p) => (l / gcd(l, p)) * p, 1);
  if (!Number.isSafeInteger(lcm))
    throw new RangeError(`cascade: hyper-period lcm(${periods.join(', ')}) is not a safe integer`);
  const events = periods.reduce((n, p) => n + lcm / p, 0);
  if (events > MAX_EVENTS)
    throw new RangeError(`cascade: ${events} transfer events per hyper-period ${lcm} (more than ${MAX_EVENTS})`);
  return lcm;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The map over `hyper` steps as exp(logScale) * matrix (row-major K x K, acting on column vectors). */
function periodMap(m: CascadeModel, g: Float64Array, hyper: number): { matrix: Float64Array; logScale: number } {
  const k = m.tiles;
  const p = new Float64Array(k * k);
  for (let i = 0; i < k; i++) p[i * k + i] = 1;
  let logScale = 0;
  const next = m.transfers.map((t) => t.offset);
  let done = 0;
  while (true) {
    const t = Math.min(...next);
    if (t > hyper) break;
    logScale += applyStretch(p, k, m.gain, g, t - done);
    done = t;
    for (let j = 0; j < k - 1; j++) {
      if (next[j] !== t) continue;
      applyTransfer(p, k, j, m.transfers[j].lr);
      next[j] += m.transfers[j].period;
    }
    logScale += renormalise(p);
  }
  if (done < hyper) logScale += applyStretch(p, k, m.gain, g, hyper - done);
  return { matrix: p, logScale };
}

/**
 * Left-multiplies p by the map of n gradient steps with tiles 1.. fixed, divided by c = max(1, |a|^n):
 * W_0 <- a^n W_0 - gain * G_n * sum_{i>=1} g_i W_i, a = 1 - gain g_0, G_n = 1 + a + ... + a^(n-1).
 * Returns ln c (c > 1 only where the gradient tile alone diverges, gain g_0 > 2).
 */
function applyStretch(p: Float64Array, k: number, gain: number, g: Float64Array, n: number): number {
  const { pow, sum, rest, logScale } = stretch(gain * g[0], n);
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let i = 1; i < k; i++) s += g[i] * p[i * k + c];
    p[c] = pow * p[c] - gain * sum * s;
  }
  if (rest !== 1) for (let i = k; i < k * k; i++) p[i] *= rest;
  return logScale;
}

/**
 * a^n / c, G_n / c and 1 / c for a = 1 - x, with c = max(1, |a|^n) carried as ln c; for 0 < x < 1
 * via log1p/expm1, so that G_n keeps its precision when x is tiny and n large.
 */
function stretch(x: number, n: number): { pow: number; sum: number; rest: number; logScale: number } {
  if (x === 0) return { pow: 1, sum: n, rest: 1, logScale: 0 };
  if (x < 1) {
    const log = n * Math.log1p(-x);
    return { pow: Math.exp(log), sum: -Math.expm1(log) / x, rest: 1, logScale: 0 };
  }
  const a = 1 - x;
  const log = n * Math.log(Math.abs(a));
  const logScale = Math.max(0, log);
  const pow = (a < 0 && n % 2 === 1 ? -1 : 1) * Math.exp(log - logScale);
  const rest = Math.exp(-logScale);
  return { pow, sum: (rest - pow) / x, rest, logScale };
}

/** Left-multiplies p by the transfer of level j: W_{j+1} <- W_{j+1} + lr W_j. */
function applyTransfer(p: Float64Array, k: number, j: number, lr: number): void {
  for (let c = 0; c < k; c++) p[(j + 1) * k + c] += lr * p[j * k + c];
}

/** Rescales p by a power of two when its largest entry is out of range; returns the ln of the factor taken out. */
function renormalise(p: Float64Array): number {
  const max = maxAbs(p);
  if (max === 0 || (max <= 2 ** LIMIT && max >= 2 ** -LIMIT)) return 0;
  const e = Math.round(Math.log2(max));
  for (let i = 0; i < p.length; i++) p[i] *= 2 ** -e;
  return e * Math.LN2;
}

/**
 * ln of the spectral radius of m (K x K, row-major) by Gelfand's formula: rho = lim ||m^(2^s)||^(1/2^s),
 * squaring a copy normalised to max entry 1 and summing ln(norm) / 2^s; -Infinity for a nilpotent m.
 */
function logSpectralRadius(m: Float64Array, k: number): number {
  let q: Float64Array = Float64Array.from(m);
  let norm = maxAbs(q);
  let log = Math.log(norm);
  for (let s = 1; s <= SQUARINGS && norm > 0; s++) {
    scale(q, 1 / norm);
    q = square(q, k);
    norm = maxAbs(q);
    log += Math.log(norm) / 2 ** s;
  }
  return log;
}

function square(q: Float64Array, k: number): Float64Array {
  const r = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let l = 0; l < k; l++) {
      const v = q[i * k + l];
      if (v !== 0) for (let c = 0; c < k; c++) r[i * k + c] += v * q[l * k + c];
    }
  }
  return r;
}

function scale(q: Float64Array, f: number): void {
  for (let i = 0; i < q.length; i++) q[i] *= f;
}

function maxAbs(q: Float64Array): number {
  let max = 0;
  for (const v of q) max = Math.max(max, Math.abs(v));
  return max;
}
