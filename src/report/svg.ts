/**
 * A small SVG chart renderer (no dependencies): one figure of line charts in a grid of panels
 * sharing their axes, each series a line through its points with either a shaded band or error
 * bars of ±1 std, a legend, a title and footnotes. Axes are linear or log10; ticks are "nice"
 * numbers (or the data's own x values when they fit). The output is a standalone SVG document
 * (xmlns, viewBox, every text escaped) that can also be inlined in HTML.
 *
 * What keeps it readable: on a log y axis a spread is drawn geometrically, from mean²/(mean +
 * std) to mean + std (the same distance either side of the mean on the axis, never down to the
 * axis floor); error bars of the series of a panel are set side by side (dodged) so that they do
 * not hide each other; a point may carry a `range` (the raw values a smoothed point stands for),
 * drawn as a faint band behind; yellow, the palette's palest colour, is drawn with a dark
 * casing; footnotes wrap instead of being cut.
 *
 * A scatter figure (`scatter`) draws markers without lines, each point with its own label beside
 * it where that does not collide with another label (the tooltip always has it), and horizontal
 * error bars when the points have an x spread.
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
  /** a spread other than ±1 std (the range over seeds around a median): drawn instead of std */
  bounds?: [number, number];
  /** ±1 std of x (a scatter's x is a measured value too): a horizontal error bar */
  xStd?: number | null;
  /** a scatter point's label, written beside it */
  tag?: string;
  n: number;
  /** the tooltip (a <title> of the point's marker) */
  label?: string;
  /** the range of the raw values this point smooths (a window of epochs): drawn as a faint band */
  range?: [number, number];
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
  /** the points are means over windows (of epochs): drawn without markers, each point's `range` faint behind */
  smoothed?: boolean;
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
  /** markers only, no lines; each point's `tag` beside it (a scatter of one point per cell) */
  scatter?: boolean;
  /** legend entries, in order; colours follow this index */
  groups: string[];
  legendTitle?: string;
  panels: FigurePanel[];
  notes?: string[];
}

// ---- escaping and numbers --------------------------------------------------------------------

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text and attribute values for XML and HTML: & < > " ' escaped. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => XML_ENTITIES[c]);
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
  const t = axis.log
    ? (Math.log10(v) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min))
    : (v - axis.min) / (axis.max - axis.min);
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
/** of the 12 px subtitle's mixed text (for wrapping it) */
const SUBTITLE_CHAR = 5.8;
/** of the 15 px bold title */
const TITLE_CHAR = 8.6;
/** a legend entry's text is cut beyond this many pixels (the whole of it in a tooltip) */
const LEGEND_TEXT = 320;

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
  /** above the panels, under the title: its title and entries flow left to right in rows */
  legend: Legend | null;
  /** the subtitle wrapped to the figure's width */
  subtitleLines: string[];
  titleLines: number;
  /** the footnotes wrapped to the figure's width, one entry per line */
  noteLines: NoteLine[];
}

export interface Legend {
  title: { x: number; y: number } | null;
  /** one per group, in order: where its line sample starts (y: the line's height) */
  items: { x: number; y: number }[];
  top: number;
  height: number;
}

export interface NoteLine {
  text: string;
  /** a continuation line of a note (drawn indented) */
  more: boolean;
  /** the whole note, when this line ends it cut short */
  cut?: string;
}

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies (yellow last). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#000000', '#F0E442'];
/** beyond the palette, lines are told apart by their dashes too */
const DASHES = ['', '6 3', '2 2', '8 3 2 3'];

/** The palette's yellow is pale on white: its lines, bars and markers get a dark casing. */
const CASED = new Set(['#F0E442']);
const CASING = '#5c5500';

export function seriesStyle(group: number): { colour: string; dash: string; casing: string | null } {
  const colour = PALETTE[group % PALETTE.length];
  const dash = DASHES[Math.floor(group / PALETTE.length) % DASHES.length];
  return { colour, dash, casing: CASED.has(colour) ? CASING : null };
}

/**
 * Spread limits of a point: its bounds when it has them (a median's range), else mean ± std (the
 * mean itself when there is no std); on a log axis
 * (`log`) geometric: mean²/(mean + std) to mean + std, a factor (1 + std/mean) either way, so
 * that it is as long below the mean as above on the axis and never reaches 0.
 */
export function spreadOf(p: FigurePoint, log = false): [number, number] {
  if (p.bounds) return p.bounds;
  if (p.std === null) return [p.y, p.y];
  if (log && p.y > 0) return [(p.y * p.y) / (p.y + p.std), p.y + p.std];
  return [p.y - p.std, p.y + p.std];
}

/** Whether a point has a spread to draw. */
export function hasSpread(p: FigurePoint): boolean {
  return p.bounds !== undefined || p.std !== null;
}

/** The x spread of a scatter point: ±1 std, geometric on a log axis as for y. */
export function xSpreadOf(p: FigurePoint, log = false): [number, number] {
  return spreadOf({ y: p.x, std: p.xStd ?? null, n: p.n, x: 0 }, log);
}

function dataRange(fig: Figure): { xs: number[]; ys: number[] } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const panel of fig.panels) {
    for (const s of panel.series) {
      for (const p of s.points) {
        if (!s.reference) xs.push(p.x);
        if (!s.reference && p.xStd) xs.push(...xSpreadOf(p, fig.xLog));
        ys.push(p.y);
        const [lo, hi] = spreadOf(p, fig.yLog);
        ys.push(lo, hi);
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

/** The largest of 1, 2, 3, 5 times a power of 10 at or below `v` (> 0), and the smallest at or above. */
function niceBelow(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return [5, 3, 2, 1].map((m) => clean(m * p)).find((t) => t <= v * (1 + 1e-9)) ?? p;
}
function niceAbove(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 3, 5, 10].map((m) => clean(m * p)).find((t) => t >= v * (1 - 1e-9)) ?? 10 * p;
}

/** The x axis: ticks at the data's distinct x values when asked and they stay 30 px apart. */
function xAxisFor(fig: Figure, xs: number[]): Axis {
  // a scatter's log x (a measured cost): widened to ticks on both sides of the data, so that every
  // point can be read off
  const positive = xs.filter((v) => v > 0);
  if (fig.scatter && fig.xLog && positive.length > 0) {
    return logAxis(niceBelow(Math.min(...positive)), niceAbove(Math.max(...positive)));
  }
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
  const pad = (b - a) * (fig.spread === 'errorbars' ? 0.08 : 0.06); // room for dodged error bars
  const axis: Axis = fig.xLog
    ? { min: 10 ** (a - pad), max: 10 ** (b + pad), log: true, ticks: distinct }
    : { min: a - pad, max: b + pad, log: false, ticks: distinct };
  const at = (v: number) => project(axis, v, 0, PANEL_WIDTH);
  for (let i = 1; i < distinct.length; i++) {
    if (at(distinct[i]) - at(distinct[i - 1]) < 30) return axisFor(xs, fig.xLog);
  }
  return distinct.length <= 12 ? axis : axisFor(xs, fig.xLog);
}

/** width of a character of the 11 px footnotes, roughly */
const NOTE_CHAR = 6.2;
/** footnotes longer than this many lines are cut (the whole of them in a tooltip) */
const NOTE_MAX_LINES = 3;
const NOTE_LINE = 15;

/** The footnotes broken at spaces into lines of at most `px` pixels, each note at most NOTE_MAX_LINES lines. */
export function wrapNotes(notes: readonly string[], px: number, charPx = NOTE_CHAR): NoteLine[] {
  const max = Math.max(20, Math.floor((px - 12) / charPx));
  const out: NoteLine[] = [];
  for (const note of notes) {
    const lines: string[] = [];
    let rest = note;
    while (rest.length > max && lines.length < NOTE_MAX_LINES) {
      let cut = rest.lastIndexOf(' ', max);
      if (cut < max / 2) cut = max;
      lines.push(rest.slice(0, cut).trimEnd());
      rest = rest.slice(cut).trimStart();
    }
    if (rest && lines.length < NOTE_MAX_LINES) lines.push(rest);
    else if (rest) {
      const last = lines[lines.length - 1];
      lines[lines.length - 1] = `${last.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
    }
    lines.forEach((text, i) => out.push({ text, more: i > 0 }));
    if (rest && lines.length === NOTE_MAX_LINES && out.length) out[out.length - 1].cut = note;
  }
  return out;
}

export function figureGeometry(fig: Figure): Geometry {
  const { xs, ys } = dataRange(fig);
  const x = xAxisFor(fig, xs);
  const y = axisFor(ys, fig.yLog);
  const n = Math.max(1, fig.panels.length);
  const columns = n <= 3 ? n : n === 4 ? 2 : 3;
  const rows = Math.ceil(n / columns);
  const cellW = MARGIN_LEFT + PANEL_WIDTH + MARGIN_RIGHT;
  const plotsW = columns * cellW;
  // as wide as the panels, or the title (15 px bold) when it is longer; the rest wraps
  const width = Math.max(Math.ceil(plotsW + 8), Math.min(Math.ceil(fig.title.length * TITLE_CHAR + 24), 1400));
  const subtitleLines = fig.subtitle ? wrapNotes([fig.subtitle], width - 12, SUBTITLE_CHAR).map((l) => l.text) : [];
  const titleLines = 1 + subtitleLines.length;
  let top0 = 12 + titleLines * 18 + 8;
  const showLegend = fig.groups.length > 1 || (fig.groups.length === 1 && fig.groups[0] !== '');
  let legend: Legend | null = null;
  if (showLegend) {
    const top = top0 + 4;
    const title = fig.legendTitle ? { x: 12, y: top } : null;
    // entries start after the legend's title, or on the next row when the title is long
    const after = title ? 12 + (fig.legendTitle as string).length * CHAR + 14 : 12;
    const start = after <= width / 3 ? after : 12;
    const items: { x: number; y: number }[] = [];
    let cx = start;
    let cy = title && after > width / 3 ? top + 18 : top;
    for (const g of fig.groups) {
      const w = 30 + Math.min(LEGEND_TEXT, g.length * CHAR) + 18;
      if (cx > start && cx + w > width - 8) {
        cx = start;
        cy += 18;
      }
      items.push({ x: cx, y: cy });
      cx += w;
    }
    const height = cy - top + 18;
    legend = { title, items, top, height };
    top0 = top + height + 4;
  }
  const hasTitles = fig.panels.some((p) => p.title !== '');
  const cellH = (hasTitles ? PANEL_TITLE : 8) + PANEL_HEIGHT + MARGIN_BOTTOM;
  const panels: PanelFrame[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % columns;
    const r = Math.floor(i / columns);
    const top = top0 + r * cellH + (hasTitles ? PANEL_TITLE : 8);
    panels.push({ left: c * cellW + MARGIN_LEFT, top, width: PANEL_WIDTH, height: PANEL_HEIGHT });
  }
  const noteLines = wrapNotes(fig.notes ?? [], width - 24);
  const height = Math.ceil(top0 + rows * cellH + noteLines.length * NOTE_LINE + (noteLines.length ? 8 : 0));
  return {
    width,
    height,
    columns,
    x,
    y,
    panels,
    legend,
    subtitleLines,
    titleLines,
    noteLines,
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
  const open = `<text x="${coord(x)}" y="${coord(y)}"${attrs ? ` ${attrs}` : ''}>`;
  return `${open}<title>${escapeXml(s)}</title>${escapeXml(s.slice(0, max - 1))}…</text>`;
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
  const xl = fig.xLabel + (g.x.log ? ' (log scale)' : '');
  const yl = fig.yLabel + (g.y.log ? ' (log scale)' : '');
  const cx = f.left - 48;
  const cy = f.top + f.height / 2;
  const rotated = `transform="rotate(-90 ${coord(cx)} ${coord(cy)})"`;
  return [
    `<rect class="frame" x="${coord(f.left)}" y="${coord(f.top)}" ` +
      `width="${coord(f.width)}" height="${coord(f.height)}" fill="#fff" stroke="#888"/>`,
    `<path class="grid" d="${grid.join('')}" stroke="#e4e4e4" fill="none"/>`,
    `<path class="ticks" d="${marks.join('')}" stroke="#888" fill="none"/>`,
    ...labels,
    fitted(f.left + f.width / 2, bottom + 36, xl, f.width, 'class="label x" text-anchor="middle"'),
    fitted(cx, cy, yl, f.height, `class="label y" text-anchor="middle" ${rotated}`),
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

/**
 * Horizontal offsets (px) of a panel's series with error bars, so that the bars at one x stand
 * side by side: neighbours `step` apart (at most 8), the whole group centred on x, at most 60 % of
 * the narrowest gap between x values wide and inside the frame. Series without error bars, and
 * references, stay at 0.
 */
export function dodgeOffsets(
  g: Geometry,
  f: PanelFrame,
  fig: Figure,
  panel: FigurePanel,
): { offsets: Map<FigureSeries, number>; step: number } {
  const offsets = new Map<FigureSeries, number>();
  if (fig.spread !== 'errorbars' || fig.scatter) return { offsets, step: 0 };
  const dodged = panel.series.filter((s) => !s.reference && s.points.some(hasSpread));
  if (dodged.length < 2) return { offsets, step: 0 };
  const pixels = dodged.flatMap((s) => s.points.map((p) => project(g.x, p.x, f.left, f.left + f.width)));
  const xs = [...new Set(pixels)].sort((a, b) => a - b);
  let gap = f.width;
  for (let i = 1; i < xs.length; i++) gap = Math.min(gap, xs[i] - xs[i - 1]);
  // and within the frame: the outermost bars keep a fifth of the margin between the data and the frame
  const room = Math.min(xs[0] - f.left, f.left + f.width - xs[xs.length - 1]);
  const step = Math.max(0, Math.min(8, (0.6 * gap) / (dodged.length - 1), (1.6 * room) / (dodged.length - 1)));
  dodged.forEach((s, i) => offsets.set(s, (i - (dodged.length - 1) / 2) * step));
  return { offsets, step };
}

function renderSeries(g: Geometry, f: PanelFrame, fig: Figure, s: FigureSeries, dx = 0, step = 0): string[] {
  const out: string[] = [];
  const { colour, dash, casing } = seriesStyle(s.group);
  const name = fig.groups[s.group] ?? '';
  const bottom = f.top + f.height;
  const right = f.left + f.width;
  const X = (v: number) => project(g.x, v, f.left, right) + dx;
  const Y = (v: number) => project(g.y, clampY(g, v), bottom, f.top);
  const all = s.points.filter((p) => Number.isFinite(p.y) && (!g.y.log || p.y > 0));
  // long curves (thousands of epochs) are thinned to about one point per pixel, without markers
  const pts = all.length > MAX_MARKERS ? thin(all, (p) => X(p.x)) : all;
  if (pts.length === 0) return out;
  const group = `data-group="${escapeXml(name)}"`;
  const dashAttr = (d: string) => (d ? ` stroke-dasharray="${d}"` : '');
  const log = g.y.log;
  const hiOf = (p: FigurePoint) => spreadOf(p, log)[1];
  const loOf = (p: FigurePoint) => spreadOf(p, log)[0];
  /** a line of the series, over a darker casing when its colour is pale */
  const stroked = (cls: string, d: string, width: number, extra = '', inner = '') => {
    if (casing) {
      const look = `fill="none" stroke="${casing}" stroke-width="${width + 1.6}"${extra} stroke-linejoin="round"`;
      out.push(`<path class="casing" d="${d}" ${look}/>`);
    }
    const look = `fill="none" stroke="${colour}" stroke-width="${width}"${extra} stroke-linejoin="round"`;
    const open = `<path class="${cls}" ${group} d="${d}" ${look}`;
    out.push(inner ? `${open}>${inner}</path>` : `${open}/>`);
  };
  if (s.reference) {
    const p = pts[0];
    if (hasSpread(p)) {
      const d = `M${coord(f.left)},${coord(Y(hiOf(p)))}H${coord(right)}V${coord(Y(loOf(p)))}H${coord(f.left)}Z`;
      out.push(`<path class="band" ${group} d="${d}" fill="${colour}" fill-opacity="0.15" stroke="none"/>`);
    }
    const level = `M${coord(f.left)},${coord(Y(p.y))}L${coord(right)},${coord(Y(p.y))}`;
    stroked('series reference', level, 2, ' stroke-dasharray="6 4"', `<title>${escapeXml(p.label ?? name)}</title>`);
    return out;
  }
  const ranged = pts.filter((p) => p.range !== undefined && (!log || p.range[1] > 0));
  if (ranged.length > 1) {
    // the raw values behind the smoothed points, faint
    const range = (p: FigurePoint) => p.range as [number, number];
    const lo = (p: FigurePoint) => (log && range(p)[0] <= 0 ? g.y.min : range(p)[0]);
    const upper = ranged.map((p, i) => `${i === 0 ? 'M' : 'L'}${coord(X(p.x))},${coord(Y(range(p)[1]))}`).join('');
    const lower = [...ranged]
      .reverse()
      .map((p) => `L${coord(X(p.x))},${coord(Y(lo(p)))}`)
      .join('');
    const d = `${upper}${lower}Z`;
    out.push(`<path class="range" ${group} d="${d}" fill="${colour}" fill-opacity="0.08" stroke="none"/>`);
  }
  if (fig.spread === 'band' && pts.some(hasSpread)) {
    const upper = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${coord(X(p.x))},${coord(Y(hiOf(p)))}`).join('');
    const lower = [...pts]
      .reverse()
      .map((p) => `L${coord(X(p.x))},${coord(Y(loOf(p)))}`)
      .join('');
    out.push(`<path class="band" ${group} d="${upper}${lower}Z" fill="${colour}" fill-opacity="0.18" stroke="none"/>`);
  }
  if (fig.spread === 'errorbars') {
    const bars: string[] = [];
    // caps narrower than the distance to the neighbouring series' bars
    const cap = step > 0 ? Math.min(4, step * 0.4) : 4;
    for (const p of pts) {
      if (hasSpread(p)) {
        const x = X(p.x);
        const y1 = Y(loOf(p));
        const y2 = Y(hiOf(p));
        const capAt = (yc: number) => `M${coord(x - cap)},${coord(yc)}H${coord(x + cap)}`;
        bars.push(`M${coord(x)},${coord(y1)}V${coord(y2)}${capAt(y1)}${capAt(y2)}`);
      }
      if (fig.scatter && p.xStd) {
        // horizontal: the spread of the measured x, clipped to the frame
        const [lo, hi] = xSpreadOf(p, g.x.log).map((v) => Math.min(g.x.max, Math.max(g.x.min, v)));
        const [x1, x2] = [X(lo), X(hi)];
        const y = Y(p.y);
        if (x2 - x1 >= 1) {
          const capAt = (xc: number) => `M${coord(xc)},${coord(y - cap)}V${coord(y + cap)}`;
          bars.push(`M${coord(x1)},${coord(y)}H${coord(x2)}${capAt(x1)}${capAt(x2)}`);
        }
      }
    }
    if (bars.length) stroked('errorbar', bars.join(''), 1.2);
  }
  if (!fig.scatter) {
    const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${coord(X(p.x))},${coord(Y(p.y))}`).join('');
    const smoothed = `${name || 'all runs'}: means over windows of epochs`;
    const tooltip = s.smoothed ? `<title>${escapeXml(smoothed)}</title>` : '';
    stroked('series', d, 2, dashAttr(dash), tooltip);
  }
  if (all.length > MAX_MARKERS || s.smoothed) return out;
  const ring = casing
    ? ` stroke="${casing}" stroke-width="0.8"`
    : fig.scatter
      ? ' stroke="#fff" stroke-width="0.8"'
      : '';
  const r = fig.scatter ? 4.2 : 2.8;
  for (const p of pts) {
    const cls = fig.scatter ? ` class="point" ${group}` : '';
    const tooltip = p.label ? `<title>${escapeXml(p.label)}</title>` : '';
    const at = `cx="${coord(X(p.x))}" cy="${coord(Y(p.y))}"`;
    out.push(`<circle${cls} ${at} r="${r}" fill="${colour}"${ring}>${tooltip}</circle>`);
  }
  return out;
}

/** A label's box (figure pixels), for keeping scatter labels apart. */
interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

const overlapsBox = (a: Box, b: Box): boolean => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;

/**
 * The labels (`tag`) of a scatter panel's points, each beside its point: right of it, else left,
 * above, below or diagonally, wherever it collides with no marker, error bar or label placed before and stays
 * inside the frame; a label that fits nowhere is left out (the point's tooltip has it). Labels of the series
 * drawn later come first, as their markers lie on top.
 */
function renderTags(g: Geometry, f: PanelFrame, fig: Figure, panel: FigurePanel): string[] {
  const right = f.left + f.width;
  const bottom = f.top + f.height;
  const X = (v: number) => project(g.x, v, f.left, right);
  const Y = (v: number) => project(g.y, clampY(g, v), bottom, f.top);
  const usable = (p: FigurePoint) =>
    Number.isFinite(p.y) && Number.isFinite(p.x) && (!g.y.log || p.y > 0) && (!g.x.log || p.x > 0);
  const points = panel.series
    .filter((s) => !s.reference)
    .flatMap((s) => s.points.filter(usable).map((p) => ({ s, p, x: X(p.x), y: Y(p.y) })));
  // markers and error bars are not written over
  const taken: Box[] = points.flatMap(({ p, x, y }) => {
    const boxes: Box[] = [{ x1: x - 4, y1: y - 4, x2: x + 4, y2: y + 4 }];
    if (hasSpread(p)) {
      const [lo, hi] = spreadOf(p, g.y.log);
      boxes.push({ x1: x - 3, y1: Y(hi), x2: x + 3, y2: Y(lo) });
    }
    if (p.xStd) {
      const [lo, hi] = xSpreadOf(p, g.x.log).map((v) => Math.min(g.x.max, Math.max(g.x.min, v)));
      boxes.push({ x1: X(lo), y1: y - 3, x2: X(hi), y2: y + 3 });
    }
    return boxes;
  });
  const out: string[] = [];
  for (const { s, p, x, y } of points) {
    if (!p.tag) continue;
    const w = p.tag.length * TAG_CHAR;
    const h = 11;
    const tries: { box: Box; tx: number; ty: number; anchor: string }[] = [
      {
        box: { x1: x + 6, y1: y - h / 2 - 1, x2: x + 6 + w, y2: y + h / 2 - 1 },
        tx: x + 6,
        ty: y + 3.5,
        anchor: 'start',
      },
      {
        box: { x1: x - 6 - w, y1: y - h / 2 - 1, x2: x - 6, y2: y + h / 2 - 1 },
        tx: x - 6,
        ty: y + 3.5,
        anchor: 'end',
      },
      { box: { x1: x - w / 2, y1: y - 7 - h, x2: x + w / 2, y2: y - 7 }, tx: x, ty: y - 9, anchor: 'middle' },
      { box: { x1: x - w / 2, y1: y + 7, x2: x + w / 2, y2: y + 7 + h }, tx: x, ty: y + 16, anchor: 'middle' },
      // diagonally, clear of both error bars
      { box: { x1: x + 5, y1: y - 4 - h, x2: x + 5 + w, y2: y - 4 }, tx: x + 5, ty: y - 6.5, anchor: 'start' },
      { box: { x1: x + 5, y1: y + 4, x2: x + 5 + w, y2: y + 4 + h }, tx: x + 5, ty: y + 13, anchor: 'start' },
      { box: { x1: x - 5 - w, y1: y - 4 - h, x2: x - 5, y2: y - 4 }, tx: x - 5, ty: y - 6.5, anchor: 'end' },
      { box: { x1: x - 5 - w, y1: y + 4, x2: x - 5, y2: y + 4 + h }, tx: x - 5, ty: y + 13, anchor: 'end' },
    ];
    const inside = (b: Box) => b.x1 >= f.left + 2 && b.x2 <= right - 2 && b.y1 >= f.top + 1 && b.y2 <= bottom - 1;
    const fit = tries.find((t) => inside(t.box) && !taken.some((b) => overlapsBox(b, t.box)));
    if (!fit) continue;
    taken.push(fit.box);
    const { colour } = seriesStyle(s.group);
    const at = `x="${coord(fit.tx)}" y="${coord(fit.ty)}" text-anchor="${fit.anchor}"`;
    const fill = colour === '#F0E442' ? CASING : colour;
    const halo = 'paint-order="stroke" stroke="#fff" stroke-width="3" stroke-linejoin="round"';
    out.push(`<text class="tag" ${at} font-size="10.5" fill="${fill}" ${halo}>${escapeXml(p.tag)}</text>`);
  }
  return out;
}

/** width of a character of the 10.5 px scatter labels, roughly */
const TAG_CHAR = 5.9;

function renderLegend(g: Geometry, fig: Figure): string[] {
  if (!g.legend) return [];
  const out: string[] = ['<g class="legend">'];
  const { title, items } = g.legend;
  if (title && fig.legendTitle) {
    out.push(fitted(title.x, title.y + 4, `${fig.legendTitle}:`, g.width - 24, 'font-weight="bold"'));
  }
  const refs = new Set<number>();
  for (const p of fig.panels) for (const s of p.series) if (s.reference) refs.add(s.group);
  fig.groups.forEach((name, i) => {
    const { x, y } = items[i];
    const { colour, dash, casing } = seriesStyle(i);
    const d = refs.has(i) ? '6 4' : dash;
    const ring = casing ? ` stroke="${casing}" stroke-width="0.8"` : '';
    if (fig.scatter) {
      out.push(
        `<circle cx="${coord(x + 12)}" cy="${coord(y)}" r="4.2" fill="${colour}"${ring}/>`,
        fitted(x + 30, y + 4, name, LEGEND_TEXT),
      );
      return;
    }
    const line = `M${coord(x)},${coord(y)}H${coord(x + 24)}`;
    const dashed = d ? ` stroke-dasharray="${d}"` : '';
    if (casing) out.push(`<path d="${line}" stroke="${casing}" stroke-width="3.6"${dashed}/>`);
    out.push(`<path d="${line}" stroke="${colour}" stroke-width="2"${dashed}/>`);
    if (!refs.has(i)) out.push(`<circle cx="${coord(x + 12)}" cy="${coord(y)}" r="2.8" fill="${colour}"${ring}/>`);
    out.push(fitted(x + 30, y + 4, name, LEGEND_TEXT));
  });
  out.push('</g>');
  return out;
}

/** The figure as a standalone SVG document. */
export function renderSvg(fig: Figure): string {
  const g = figureGeometry(fig);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${g.width} ${g.height}" width="${g.width}" ` +
      `height="${g.height}" font-family="Helvetica, Arial, sans-serif" font-size="${FONT}" role="img">`,
    `<title>${escapeXml(fig.title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    fitted(12, 24, fig.title, g.width - 24, 'class="title" font-size="15" font-weight="bold"'),
  ];
  g.subtitleLines.forEach((l, i) => out.push(text(12, 42 + 18 * i, l, 'class="subtitle" fill="#444"')));
  fig.panels.forEach((panel, i) => {
    const f = g.panels[i];
    out.push(`<g class="panel">`);
    if (panel.title) {
      const attrs = 'class="panel-title" text-anchor="middle" font-weight="bold"';
      out.push(fitted(f.left + f.width / 2, f.top - 8, panel.title, f.width, attrs));
    }
    out.push(...renderAxes(g, f, fig));
    // references first, so that the lines of the groups lie on top
    const ordered = [...panel.series.filter((s) => s.reference), ...panel.series.filter((s) => !s.reference)];
    const { offsets, step } = dodgeOffsets(g, f, fig, panel);
    const drawn = ordered.flatMap((s) => renderSeries(g, f, fig, s, offsets.get(s) ?? 0, step));
    if (drawn.length === 0) {
      const attrs = 'class="empty" text-anchor="middle" fill="#888"';
      out.push(text(f.left + f.width / 2, f.top + f.height / 2, 'no data', attrs));
    }
    out.push(...drawn);
    if (fig.scatter) out.push(...renderTags(g, f, fig, panel));
    out.push('</g>');
  });
  out.push(...renderLegend(g, fig));
  const lines = g.noteLines;
  lines.forEach((l, i) => {
    const y = g.height - 8 - (lines.length - 1 - i) * NOTE_LINE;
    const whole = l.cut ? `<title>${escapeXml(l.cut)}</title>` : '';
    const at = `x="${l.more ? 24 : 12}" y="${coord(y)}"`;
    out.push(`<text ${at} class="note" fill="#444" font-size="11">${whole}${escapeXml(l.text)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
