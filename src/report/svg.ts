/**
 * A small SVG chart renderer (no dependencies): one figure of line charts in a grid of panels
 * sharing their axes, each series a line through its points with either a shaded band or error
 * bars of ±1 std, a legend, a title and footnotes. Axes are linear or log10; ticks are "nice"
 * numbers (or the data's own x values when they fit). The output is a standalone SVG document
 * (xmlns, viewBox, every text escaped) that can also be inlined in HTML.
 *
 * The geometry is exposed (figureGeometry, project) so that tests can check the coordinates.
 */

// ---- the figure -------------------------------------------------------------------------------

export interface FigurePoint {
  x: number;
  /** the mean */
  y: number;
  /** ±1 std drawn around the mean; null when there is none (n < 2) */
  std: number | null;
  n: number;
  /** the tooltip (a <title> of the point's marker) */
  label?: string;
}

export interface FigureSeries {
  /** index into Figure.groups (colour and legend entry) */
  group: number;
  points: FigurePoint[];
  /**
   * A reference level without x (e.g. digital SGD, which has no device.n_states): drawn as a
   * horizontal dashed line over the whole x range at its one point's y, with its band.
   */
  reference?: boolean;
}

export interface FigurePanel {
  /** '' for a figure of one panel without a title */
  title: string;
  series: FigureSeries[];
}

export interface Figure {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  xLog: boolean;
  yLog: boolean;
  /** how the spread is drawn: a shaded band along the line, or an error bar at each point */
  spread: 'band' | 'errorbars';
  /** prefer ticks at the x values of the data (swept values) when they fit */
  xTicksAtData?: boolean;
  /** x takes whole numbers only (epochs): no ticks between them */
  xInteger?: boolean;
  /** legend entries, in order; colours follow this index */
  groups: string[];
  legendTitle?: string;
  panels: FigurePanel[];
  notes?: string[];
}

// ---- escaping and numbers --------------------------------------------------------------------

/** Text and attribute values for XML and HTML: & < > " ' escaped. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** A coordinate with two decimals, no trailing zeros. */
export function coord(v: number): string {
  const r = Math.round(v * 100) / 100;
  return String(Object.is(r, -0) ? 0 : r);
}

/** A tick label: 0.5, 12, 250, 1e-4, 2e+5. */
export function tickText(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) {
    const [m, e] = v.toExponential(6).split('e');
    return `${String(Number(m))}e${Number(e)}`;
  }
  return String(Number(v.toPrecision(6)));
}

// ---- axes -------------------------------------------------------------------------------------

export interface Axis {
  min: number;
  max: number;
  log: boolean;
  ticks: number[];
}

/** A 1-2-5 step close to span/target. */
function niceStep(span: number, target: number): number {
  const raw = span / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

const clean = (v: number): number => Number(v.toPrecision(12));

/** A linear axis over [lo, hi] widened to whole steps, with its ticks. */
export function linearAxis(lo: number, hi: number, target = 5, minStep = 0): Axis {
  if (!(hi > lo)) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  const step = Math.max(minStep, niceStep(hi - lo, target));
  const min = clean(Math.floor(lo / step + 1e-9) * step);
  const max = clean(Math.ceil(hi / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let i = 0; min + i * step <= max + step * 1e-9; i++) ticks.push(clean(min + i * step));
  return { min, max, log: false, ticks };
}

/** A log10 axis over [lo, hi] (both > 0) padded by 5 % of its decades, ticks at 1-2-5 or powers of 10. */
export function logAxis(lo: number, hi: number): Axis {
  let a = Math.log10(lo);
  let b = Math.log10(hi);
  if (!(b - a > 1e-9)) {
    a -= 0.5;
    b += 0.5;
  }
  const pad = (b - a) * 0.05;
  a -= pad;
  b += pad;
  const min = 10 ** a;
  const max = 10 ** b;
  const decades = b - a;
  const mults = decades <= 1.2 ? [1, 2, 3, 5] : decades <= 2.5 ? [1, 2, 5] : [1];
  const every = decades <= 8 ? 1 : Math.ceil(decades / 6);
  const ticks: number[] = [];
  for (let e = Math.floor(a); e <= Math.ceil(b); e++) {
    if (mults.length === 1 && e % every !== 0) continue;
    for (const m of mults) {
      const v = clean(m * 10 ** e);
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) ticks.push(v);
    }
  }
  return { min, max, log: true, ticks };
}

/** The pixel position of `v` on `axis` mapped onto [from, to] (to < from for a y axis). */
export function project(axis: Axis, v: number, from: number, to: number): number {
  const t = axis.log ? (Math.log10(v) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min)) : (v - axis.min) / (axis.max - axis.min);
  return from + t * (to - from);
}

// ---- layout -----------------------------------------------------------------------------------

export const PANEL_WIDTH = 360;
export const PANEL_HEIGHT = 240;
const MARGIN_LEFT = 64;
const MARGIN_RIGHT = 16;
const MARGIN_BOTTOM = 44;
const PANEL_TITLE = 22;
const FONT = 12;
/** width of a character of the 12 px sans-serif text, roughly (for the legend's width) */
const CHAR = 6.8;

export interface PanelFrame {
  /** the plotting area (inside the axes) in figure pixels */
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface Geometry {
  width: number;
  height: number;
  columns: number;
  x: Axis;
  y: Axis;
  panels: PanelFrame[];
  legend: { left: number; top: number } | null;
  titleLines: number;
}

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies (yellow last). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#000000', '#F0E442'];
/** beyond the palette, lines are told apart by their dashes too */
const DASHES = ['', '6 3', '2 2', '8 3 2 3'];

export function seriesStyle(group: number): { colour: string; dash: string } {
  return { colour: PALETTE[group % PALETTE.length], dash: DASHES[Math.floor(group / PALETTE.length) % DASHES.length] };
}

/** Spread limits of a point: mean ± std (the mean itself when there is no std). */
function spreadOf(p: FigurePoint): [number, number] {
  return p.std === null ? [p.y, p.y] : [p.y - p.std, p.y + p.std];
}

function dataRange(fig: Figure): { xs: number[]; ys: number[] } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const panel of fig.panels) {
    for (const s of panel.series) {
      for (const p of s.points) {
        if (!s.reference) xs.push(p.x);
        ys.push(p.y);
        const [lo, hi] = spreadOf(p);
        if (!fig.yLog) ys.push(lo, hi);
        else {
          ys.push(hi);
          if (lo > 0) ys.push(Math.max(lo, p.y / 10)); // a band reaching 0 would stretch a log axis without end
        }
      }
    }
  }
  return { xs: xs.filter(Number.isFinite), ys: ys.filter(Number.isFinite) };
}

function axisFor(values: number[], log: boolean, minStep = 0): Axis {
  const usable = log ? values.filter((v) => v > 0) : values;
  if (usable.length === 0) return log ? logAxis(1, 10) : linearAxis(0, 1);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of usable) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return log ? logAxis(lo, hi) : linearAxis(lo, hi, 5, minStep);
}

/** The x axis: ticks at the data's distinct x values when asked and they stay 30 px apart. */
function xAxisFor(fig: Figure, xs: number[]): Axis {
  if (!fig.xTicksAtData || xs.length === 0) return axisFor(xs, fig.xLog, fig.xInteger ? 1 : 0);
  const distinct = [...new Set(xs)].sort((a, b) => a - b);
  if (fig.xLog && distinct[0] <= 0) return axisFor(xs, fig.xLog);
  let a = fig.xLog ? Math.log10(distinct[0]) : distinct[0];
  let b = fig.xLog ? Math.log10(distinct[distinct.length - 1]) : distinct[distinct.length - 1];
  if (!(b > a)) {
    const d = fig.xLog ? 0.5 : a === 0 ? 1 : Math.abs(a) * 0.5;
    a -= d;
    b += d;
  }
  const pad = (b - a) * 0.06;
  const axis: Axis = fig.xLog ? { min: 10 ** (a - pad), max: 10 ** (b + pad), log: true, ticks: distinct } : { min: a - pad, max: b + pad, log: false, ticks: distinct };
  for (let i = 1; i < distinct.length; i++) {
    if (project(axis, distinct[i], 0, PANEL_WIDTH) - project(axis, distinct[i - 1], 0, PANEL_WIDTH) < 30) return axisFor(xs, fig.xLog);
  }
  return distinct.length <= 12 ? axis : axisFor(xs, fig.xLog);
}

export function figureGeometry(fig: Figure): Geometry {
  const { xs, ys } = dataRange(fig);
  const x = xAxisFor(fig, xs);
  const y = axisFor(ys, fig.yLog);
  const n = Math.max(1, fig.panels.length);
  const columns = n <= 3 ? n : n === 4 ? 2 : 3;
  const rows = Math.ceil(n / columns);
  const titleLines = fig.subtitle ? 2 : 1;
  const top0 = 12 + titleLines * 18 + 8;
  const hasTitles = fig.panels.some((p) => p.title !== '');
  const cellW = MARGIN_LEFT + PANEL_WIDTH + MARGIN_RIGHT;
  const cellH = (hasTitles ? PANEL_TITLE : 8) + PANEL_HEIGHT + MARGIN_BOTTOM;
  const panels: PanelFrame[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % columns;
    const r = Math.floor(i / columns);
    panels.push({ left: c * cellW + MARGIN_LEFT, top: top0 + r * cellH + (hasTitles ? PANEL_TITLE : 8), width: PANEL_WIDTH, height: PANEL_HEIGHT });
  }
  const showLegend = fig.groups.length > 1 || (fig.groups.length === 1 && fig.groups[0] !== '');
  const legendChars = Math.max(fig.legendTitle?.length ?? 0, ...fig.groups.map((g) => g.length + 3));
  const legendW = showLegend ? Math.min(360, 40 + legendChars * CHAR) : 0;
  const plotsW = columns * cellW;
  const notes = fig.notes ?? [];
  const legendH = showLegend ? (fig.legendTitle ? 20 : 0) + fig.groups.length * 18 + 8 : 0;
  const width = Math.ceil(plotsW + legendW + 8);
  const height = Math.ceil(Math.max(top0 + rows * cellH, top0 + legendH) + notes.length * 16 + (notes.length ? 8 : 0));
  const minTitleW = Math.max(fig.title.length, fig.subtitle?.length ?? 0) * CHAR + 24;
  return {
    width: Math.max(width, Math.min(Math.ceil(minTitleW), 1400)),
    height,
    columns,
    x,
    y,
    panels,
    legend: showLegend ? { left: plotsW + 8, top: top0 + 8 } : null,
    titleLines,
  };
}

// ---- rendering --------------------------------------------------------------------------------

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${coord(x)}" y="${coord(y)}"${attrs ? ` ${attrs}` : ''}>${escapeXml(s)}</text>`;
}

/** Text shortened to about `px` pixels, with the whole of it as a tooltip when cut. */
function fitted(x: number, y: number, s: string, px: number, attrs = ''): string {
  const max = Math.max(8, Math.floor(px / CHAR));
  if (s.length <= max) return text(x, y, s, attrs);
  return `<text x="${coord(x)}" y="${coord(y)}"${attrs ? ` ${attrs}` : ''}><title>${escapeXml(s)}</title>${escapeXml(s.slice(0, max - 1))}…</text>`;
}

function renderAxes(g: Geometry, f: PanelFrame, fig: Figure): string[] {
  const right = f.left + f.width;
  const bottom = f.top + f.height;
  const grid: string[] = [];
  const marks: string[] = [];
  const labels: string[] = [];
  for (const t of g.y.ticks) {
    const py = project(g.y, t, bottom, f.top);
    grid.push(`M${coord(f.left)},${coord(py)}H${coord(right)}`);
    marks.push(`M${coord(f.left - 4)},${coord(py)}H${coord(f.left)}`);
    labels.push(text(f.left - 7, py + 4, tickText(t), 'class="tick y" text-anchor="end"'));
  }
  for (const t of g.x.ticks) {
    const px = project(g.x, t, f.left, right);
    grid.push(`M${coord(px)},${coord(f.top)}V${coord(bottom)}`);
    marks.push(`M${coord(px)},${coord(bottom)}V${coord(bottom + 4)}`);
    labels.push(text(px, bottom + 17, tickText(t), 'class="tick x" text-anchor="middle"'));
  }
  const yl = fig.yLabel + (g.y.log ? ' (log scale)' : '');
  const cx = f.left - 48;
  const cy = f.top + f.height / 2;
  return [
    `<rect class="frame" x="${coord(f.left)}" y="${coord(f.top)}" width="${coord(f.width)}" height="${coord(f.height)}" fill="#fff" stroke="#888"/>`,
    `<path class="grid" d="${grid.join('')}" stroke="#e4e4e4" fill="none"/>`,
    `<path class="ticks" d="${marks.join('')}" stroke="#888" fill="none"/>`,
    ...labels,
    fitted(f.left + f.width / 2, bottom + 36, fig.xLabel + (g.x.log ? ' (log scale)' : ''), f.width, 'class="label x" text-anchor="middle"'),
    fitted(cx, cy, yl, f.height, `class="label y" text-anchor="middle" transform="rotate(-90 ${coord(cx)} ${coord(cy)})"`),
  ];
}

function clampY(g: Geometry, v: number): number {
  return Math.min(g.y.max, Math.max(g.y.min, v));
}

/** Series with more points than this are drawn without markers, thinned to about one point per pixel. */
export const MAX_MARKERS = 120;

/** The points at least one pixel apart in x (the first and last always kept). */
function thin(points: readonly FigurePoint[], px: (p: FigurePoint) => number): FigurePoint[] {
  const out: FigurePoint[] = [];
  let last = -Infinity;
  points.forEach((p, i) => {
    const x = px(p);
    if (i === points.length - 1 || x - last >= 1) {
      out.push(p);
      last = x;
    }
  });
  return out;
}

function renderSeries(g: Geometry, f: PanelFrame, fig: Figure, s: FigureSeries): string[] {
  const out: string[] = [];
  const { colour, dash } = seriesStyle(s.group);
  const name = fig.groups[s.group] ?? '';
  const bottom = f.top + f.height;
  const right = f.left + f.width;
  const X = (v: number) => project(g.x, v, f.left, right);
  const Y = (v: number) => project(g.y, clampY(g, v), bottom, f.top);
  const all = s.points.filter((p) => Number.isFinite(p.y) && (!g.y.log || p.y > 0));
  // long curves (thousands of epochs) are thinned to about one point per pixel, without markers
  const pts = all.length > MAX_MARKERS ? thin(all, (p) => X(p.x)) : all;
  if (pts.length === 0) return out;
  const group = `data-group="${escapeXml(name)}"`;
  const dashAttr = (d: string) => (d ? ` stroke-dasharray="${d}"` : '');
  const loOf = (p: FigurePoint) => (g.y.log ? Math.max(spreadOf(p)[0], g.y.min) : spreadOf(p)[0]);
  if (s.reference) {
    const p = pts[0];
    if (p.std !== null) {
      out.push(
        `<path class="band" ${group} d="M${coord(f.left)},${coord(Y(spreadOf(p)[1]))}H${coord(right)}V${coord(Y(loOf(p)))}H${coord(f.left)}Z" fill="${colour}" fill-opacity="0.15" stroke="none"/>`,
      );
    }
    out.push(
      `<path class="series reference" ${group} d="M${coord(f.left)},${coord(Y(p.y))}L${coord(right)},${coord(Y(p.y))}" fill="none" stroke="${colour}" stroke-width="2" stroke-dasharray="6 4"><title>${escapeXml(p.label ?? name)}</title></path>`,
    );
    return out;
  }
  if (fig.spread === 'band' && pts.some((p) => p.std !== null)) {
    const upper = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${coord(X(p.x))},${coord(Y(spreadOf(p)[1]))}`).join('');
    const lower = [...pts]
      .reverse()
      .map((p) => `L${coord(X(p.x))},${coord(Y(loOf(p)))}`)
      .join('');
    out.push(`<path class="band" ${group} d="${upper}${lower}Z" fill="${colour}" fill-opacity="0.18" stroke="none"/>`);
  }
  if (fig.spread === 'errorbars') {
    const bars: string[] = [];
    for (const p of pts) {
      if (p.std === null) continue;
      const x = X(p.x);
      const y1 = Y(loOf(p));
      const y2 = Y(spreadOf(p)[1]);
      bars.push(`M${coord(x)},${coord(y1)}V${coord(y2)}M${coord(x - 4)},${coord(y1)}H${coord(x + 4)}M${coord(x - 4)},${coord(y2)}H${coord(x + 4)}`);
    }
    if (bars.length) out.push(`<path class="errorbar" ${group} d="${bars.join('')}" fill="none" stroke="${colour}" stroke-width="1.2"/>`);
  }
  const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${coord(X(p.x))},${coord(Y(p.y))}`).join('');
  out.push(`<path class="series" ${group} d="${d}" fill="none" stroke="${colour}" stroke-width="2"${dashAttr(dash)} stroke-linejoin="round"/>`);
  if (all.length > MAX_MARKERS) return out;
  for (const p of pts) {
    out.push(`<circle cx="${coord(X(p.x))}" cy="${coord(Y(p.y))}" r="2.8" fill="${colour}">${p.label ? `<title>${escapeXml(p.label)}</title>` : ''}</circle>`);
  }
  return out;
}

function renderLegend(g: Geometry, fig: Figure): string[] {
  if (!g.legend) return [];
  const out: string[] = ['<g class="legend">'];
  let y = g.legend.top;
  if (fig.legendTitle) {
    out.push(text(g.legend.left, y + 4, fig.legendTitle, 'font-weight="bold"'));
    y += 20;
  }
  const refs = new Set<number>();
  for (const p of fig.panels) for (const s of p.series) if (s.reference) refs.add(s.group);
  fig.groups.forEach((name, i) => {
    const { colour, dash } = seriesStyle(i);
    const d = refs.has(i) ? '6 4' : dash;
    out.push(
      `<path d="M${coord(g.legend!.left)},${coord(y)}H${coord(g.legend!.left + 24)}" stroke="${colour}" stroke-width="2"${d ? ` stroke-dasharray="${d}"` : ''}/>`,
    );
    if (!refs.has(i)) out.push(`<circle cx="${coord(g.legend!.left + 12)}" cy="${coord(y)}" r="2.8" fill="${colour}"/>`);
    out.push(fitted(g.legend!.left + 30, y + 4, name, 320));
    y += 18;
  });
  out.push('</g>');
  return out;
}

/** The figure as a standalone SVG document. */
export function renderSvg(fig: Figure): string {
  const g = figureGeometry(fig);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${g.width} ${g.height}" width="${g.width}" height="${g.height}" font-family="Helvetica, Arial, sans-serif" font-size="${FONT}" role="img">`,
    `<title>${escapeXml(fig.title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    fitted(12, 24, fig.title, g.width - 24, 'class="title" font-size="15" font-weight="bold"'),
  ];
  if (fig.subtitle) out.push(fitted(12, 42, fig.subtitle, g.width - 24, 'class="subtitle" fill="#444"'));
  fig.panels.forEach((panel, i) => {
    const f = g.panels[i];
    out.push(`<g class="panel">`);
    if (panel.title) out.push(fitted(f.left + f.width / 2, f.top - 8, panel.title, f.width, 'class="panel-title" text-anchor="middle" font-weight="bold"'));
    out.push(...renderAxes(g, f, fig));
    // references first, so that the lines of the groups lie on top
    const ordered = [...panel.series.filter((s) => s.reference), ...panel.series.filter((s) => !s.reference)];
    const drawn = ordered.flatMap((s) => renderSeries(g, f, fig, s));
    if (drawn.length === 0) out.push(text(f.left + f.width / 2, f.top + f.height / 2, 'no data', 'class="empty" text-anchor="middle" fill="#888"'));
    out.push(...drawn);
    out.push('</g>');
  });
  out.push(...renderLegend(g, fig));
  const notes = fig.notes ?? [];
  notes.forEach((n, i) => out.push(fitted(12, g.height - 8 - (notes.length - 1 - i) * 16, n, g.width - 24, 'class="note" fill="#444" font-size="11"')));
  out.push('</svg>');
  return out.join('\n') + '\n';
}
