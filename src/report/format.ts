/**
 * Plain text forms the commands share: numbers, durations, RFC 4180 CSV and aligned text tables.
 * (The forms of a pivot table are table-formats.ts.)
 */

// ---- numbers and durations ------------------------------------------------------------------

/** Four significant digits; plain notation from 1e-3 to 1e9, exponential outside. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e4) return x.toPrecision(4);
  if (a >= 1e4 && a < 1e9) return x.toFixed(0);
  return x.toExponential(3);
}

/** 45 s, 12 min, 3 h 5 min, 2 d 4 h. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const d = Math.floor(h / 24);
  return `${d} d${h % 24 ? ` ${h % 24} h` : ''}`;
}

// ---- CSV (RFC 4180) -------------------------------------------------------------------------

export const CSV_EOL = '\r\n';

/** One field: null/undefined empty; quoted when it holds a comma, quote, CR or LF (quotes doubled). */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const scalar = typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint';
  const s = typeof v === 'string' ? v : scalar ? String(v) : JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(fields: readonly unknown[]): string {
  return fields.map(csvField).join(',') + CSV_EOL;
}

export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return csvLine(header) + rows.map(csvLine).join('');
}

// ---- aligned text ---------------------------------------------------------------------------

/** Columns padded to their widest cell; `right[i]` right-aligns column i. */
export function textTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: readonly boolean[] = [],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]) : i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
