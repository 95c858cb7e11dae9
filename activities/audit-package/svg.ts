// Tiny inline-SVG charts for reports that must open anywhere, offline: no script, no fonts, no
// external anything (the page's Content-Security-Policy forbids it). Each chart is a <figure>
// with data-chart="<id>", so tests and tools can find it. Every piece of text goes through
// esc(): labels and slice names come from data (Thai, emoji, "<script>" typed by a user).

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies. */
export const palette = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML and SVG content and attribute values. */
export function esc(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => entities[c]!);
}

/** A coordinate: finite, two decimals (a NaN would make the browser drop the shape). */
const num = (x: number) => (Number.isFinite(x) ? String(Math.round(x * 100) / 100) : '0');

/** Long category names are cut (by code point, so a Thai vowel mark or emoji stays whole). */
function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

const fmtDefault = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

function figure(id: string, title: string, width: number, height: number, body: string, caption?: string): string {
  return (
    `<figure class="chart" data-chart="${esc(id)}">` +
    `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(title)}">` +
    `<text x="4" y="14" class="chart-title">${esc(title)}</text>${body}</svg>` +
    (caption ? `<figcaption>${esc(caption)}</figcaption>` : '') +
    `</figure>`
  );
}

function legend(names: string[], x: number, y: number): string {
  if (names.length < 2) return '';
  let offset = x;
  return names
    .map((name, i) => {
      const item = `<rect x="${num(offset)}" y="${y - 9}" width="10" height="10" fill="${palette[i % palette.length]}"/><text x="${num(offset + 14)}" y="${y}">${esc(clip(name, 24))}</text>`;
      offset += 24 + Math.min(24, [...name].length) * 7;
      return item;
    })
    .join('');
}

/** `count` evenly spaced ticks from lo to hi. */
function ticks(lo: number, hi: number, count = 5): number[] {
  return Array.from({ length: count }, (_, i) => lo + ((hi - lo) * i) / (count - 1));
}

export interface BarSeries {
  name: string;
  values: number[];
  /** Optional interval per value, drawn as a whisker. */
  lower?: number[];
  upper?: number[];
}

/**
 * Horizontal grouped bars: one row per category (long names fit on the left), one bar per
 * series. The axis spans [min, max]; a negative min draws a zero line (differences).
 */
export function barChart(o: {
  id: string;
  title: string;
  categories: string[];
  series: BarSeries[];
  min?: number;
  max?: number;
  format?: (x: number) => string;
  caption?: string;
}): string {
  const fmt = o.format ?? fmtDefault;
  const all = o.series.flatMap((s) => [...s.values, ...(s.upper ?? []), ...(s.lower ?? [])]).filter(Number.isFinite);
  const lo = o.min ?? Math.min(0, ...all);
  const hi = o.max ?? Math.max(lo + 1e-9, ...all);
  const width = 760;
  const left = 190;
  const right = 70;
  const top = 40;
  const bar = 12;
  const rowHeight = o.series.length * (bar + 2) + 10;
  const height = top + o.categories.length * rowHeight + 24;
  const x = (v: number) => left + ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo || 1)) * (width - left - right);
  const parts: string[] = [
    legend(
      o.series.map((s) => s.name),
      left,
      30,
    ),
  ];
  for (const t of ticks(lo, hi)) {
    parts.push(`<line class="grid" x1="${num(x(t))}" x2="${num(x(t))}" y1="${top - 4}" y2="${height - 20}"/>`);
    parts.push(`<text class="tick" x="${num(x(t))}" y="${height - 6}" text-anchor="middle">${esc(fmt(t))}</text>`);
  }
  if (lo < 0) parts.push(`<line class="zero" x1="${num(x(0))}" x2="${num(x(0))}" y1="${top - 4}" y2="${height - 20}"/>`);
  o.categories.forEach((category, c) => {
    const y0 = top + c * rowHeight;
    parts.push(`<text x="${left - 6}" y="${num(y0 + rowHeight / 2)}" text-anchor="end" dominant-baseline="middle">${esc(clip(category, 26))}</text>`);
    o.series.forEach((s, i) => {
      const v = s.values[c] ?? 0;
      const y = y0 + i * (bar + 2) + 4;
      // Bars grow from zero (or from the axis start when it lies above zero).
      const base = Math.max(lo, 0);
      const [from, b] = [x(Math.min(base, v)), x(Math.max(base, v))];
      parts.push(
        `<rect x="${num(from)}" y="${num(y)}" width="${num(Math.max(0.5, b - from))}" height="${bar}" fill="${palette[i % palette.length]}"><title>${esc(`${category} · ${s.name}: ${fmt(v)}`)}</title></rect>`,
      );
      const l = s.lower?.[c];
      const u = s.upper?.[c];
      if (l !== undefined && u !== undefined) {
        const ym = num(y + bar / 2);
        parts.push(`<path class="whisker" d="M${num(x(l))} ${ym}H${num(x(u))}M${num(x(l))} ${num(y + 2)}v${bar - 4}M${num(x(u))} ${num(y + 2)}v${bar - 4}"/>`);
      }
      parts.push(`<text class="value" x="${num(Math.max(b, u !== undefined ? x(u) : b) + 4)}" y="${num(y + bar - 2)}">${esc(fmt(v))}</text>`);
    });
  });
  return figure(o.id, o.title, width, height, parts.join(''), o.caption);
}

export interface LineSeries {
  name: string;
  points: [number, number][];
}

/** Lines over a numeric x axis (epochs, steps); points are marked when there are few. */
export function lineChart(o: { id: string; title: string; xLabel: string; series: LineSeries[]; min?: number; max?: number; caption?: string }): string {
  const pts = o.series.flatMap((s) => s.points).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const lo = o.min ?? Math.min(...ys);
  const hi = o.max ?? Math.max(...ys);
  const span = hi - lo || 1;
  const width = 560;
  const height = 260;
  const [left, right, top, bottom] = [52, 16, 40, 40];
  // One x value (a single epoch) sits in the middle rather than on the axis.
  const px = (v: number) => (x1 > x0 ? left + ((v - x0) / (x1 - x0)) * (width - left - right) : (left + width - right) / 2);
  const py = (v: number) => height - bottom - ((v - lo) / span) * (height - top - bottom);
  const parts: string[] = [
    legend(
      o.series.map((s) => s.name),
      left,
      30,
    ),
  ];
  for (const t of ticks(lo, hi)) {
    parts.push(`<line class="grid" x1="${left}" x2="${width - right}" y1="${num(py(t))}" y2="${num(py(t))}"/>`);
    parts.push(`<text class="tick" x="${left - 4}" y="${num(py(t) + 4)}" text-anchor="end">${esc(fmtDefault(t))}</text>`);
  }
  for (const t of x1 > x0 ? ticks(x0, x1) : [x0]) {
    parts.push(`<text class="tick" x="${num(px(t))}" y="${height - bottom + 16}" text-anchor="middle">${esc(Number.isInteger(t) ? t : t.toFixed(1))}</text>`);
  }
  parts.push(`<text class="axis-label" x="${num((left + width - right) / 2)}" y="${height - 6}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  o.series.forEach((s, i) => {
    const colour = palette[i % palette.length];
    const valid = s.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
    if (valid.length === 0) return;
    const d = valid.map(([a, b], k) => `${k ? 'L' : 'M'}${num(px(a))} ${num(py(b))}`).join('');
    parts.push(`<path class="line" d="${d}" stroke="${colour}"><title>${esc(s.name)}</title></path>`);
    if (valid.length <= 40) {
      for (const [a, b] of valid)
        parts.push(`<circle cx="${num(px(a))}" cy="${num(py(b))}" r="3" fill="${colour}"><title>${esc(`${s.name} @ ${a}: ${fmtDefault(b)}`)}</title></circle>`);
    }
  });
  return figure(o.id, o.title, width, height, parts.join(''), o.caption);
}

/** Counts in a grid, shaded by each row's share (a confusion matrix reads as recall per row). */
export function heatMap(o: {
  id: string;
  title: string;
  rows: string[];
  columns: string[];
  counts: number[][];
  rowTitle: string;
  columnTitle: string;
  caption?: string;
}): string {
  const cell = Math.max(36, Math.min(72, Math.floor(480 / Math.max(1, o.columns.length))));
  const left = 150;
  const top = 64;
  const width = left + cell * o.columns.length + 20;
  const height = top + cell * o.rows.length + 30;
  const parts: string[] = [
    `<text class="axis-label" x="${num(left + (cell * o.columns.length) / 2)}" y="30" text-anchor="middle">${esc(o.columnTitle)}</text>`,
    `<text class="axis-label" x="12" y="${num(top + (cell * o.rows.length) / 2)}" transform="rotate(-90 12 ${num(top + (cell * o.rows.length) / 2)})" text-anchor="middle">${esc(o.rowTitle)}</text>`,
  ];
  o.columns.forEach((c, j) => parts.push(`<text x="${num(left + j * cell + cell / 2)}" y="${top - 8}" text-anchor="middle">${esc(clip(c, 10))}</text>`));
  o.rows.forEach((r, i) => {
    const row = o.counts[i] ?? [];
    const total = row.reduce((s, x) => s + x, 0);
    parts.push(`<text x="${left - 6}" y="${num(top + i * cell + cell / 2)}" text-anchor="end" dominant-baseline="middle">${esc(clip(r, 18))}</text>`);
    o.columns.forEach((c, j) => {
      const count = row[j] ?? 0;
      const share = total ? count / total : 0;
      const fill = i === j ? `rgba(0,114,178,${num(0.08 + 0.92 * share)})` : `rgba(213,94,0,${num(share ? 0.08 + 0.92 * share : 0.02)})`;
      const [cx, cy] = [left + j * cell, top + i * cell];
      parts.push(
        `<rect class="cell" x="${cx}" y="${cy}" width="${cell}" height="${cell}" fill="${fill}"><title>${esc(`${r} → ${c}: ${count} (${(share * 100).toFixed(1)}% of ${r})`)}</title></rect>`,
      );
      parts.push(
        `<text x="${num(cx + cell / 2)}" y="${num(cy + cell / 2)}" text-anchor="middle" dominant-baseline="middle" class="${share > 0.6 ? 'on-dark' : ''}">${count}</text>`,
      );
    });
  });
  return figure(o.id, o.title, width, height, parts.join(''), o.caption);
}

/** Stacked counts over contiguous bins (the confidence histogram: right and wrong). */
export function histogram(o: {
  id: string;
  title: string;
  bins: { lower: number; upper: number }[];
  series: { name: string; counts: number[] }[];
  xLabel: string;
  caption?: string;
}): string {
  const width = 560;
  const height = 240;
  const [left, right, top, bottom] = [44, 16, 40, 40];
  const totals = o.bins.map((_, b) => o.series.reduce((s, x) => s + (x.counts[b] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const x0 = o.bins[0]?.lower ?? 0;
  const x1 = o.bins[o.bins.length - 1]?.upper ?? 1;
  const px = (v: number) => left + ((v - x0) / (x1 - x0 || 1)) * (width - left - right);
  const py = (v: number) => height - bottom - (v / max) * (height - top - bottom);
  const parts: string[] = [
    legend(
      o.series.map((s) => s.name),
      left,
      30,
    ),
  ];
  for (const t of ticks(0, max)) parts.push(`<text class="tick" x="${left - 4}" y="${num(py(t) + 4)}" text-anchor="end">${Math.round(t)}</text>`);
  for (const t of ticks(x0, x1, 6)) parts.push(`<text class="tick" x="${num(px(t))}" y="${height - bottom + 16}" text-anchor="middle">${t.toFixed(1)}</text>`);
  parts.push(`<text class="axis-label" x="${num((left + width - right) / 2)}" y="${height - 6}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  o.bins.forEach((bin, b) => {
    let base = 0;
    o.series.forEach((s, i) => {
      const count = s.counts[b] ?? 0;
      if (count > 0) {
        parts.push(
          `<rect x="${num(px(bin.lower) + 1)}" y="${num(py(base + count))}" width="${num(Math.max(1, px(bin.upper) - px(bin.lower) - 2))}" height="${num(py(base) - py(base + count))}" fill="${palette[i % palette.length]}"><title>${esc(`${bin.lower.toFixed(1)}–${bin.upper.toFixed(1)} · ${s.name}: ${count}`)}</title></rect>`,
        );
      }
      base += count;
    });
  });
  parts.push(`<line class="axis" x1="${left}" x2="${width - right}" y1="${num(py(0))}" y2="${num(py(0))}"/>`);
  return figure(o.id, o.title, width, height, parts.join(''), o.caption);
}

/** Accuracy per confidence bin against the diagonal a calibrated model would sit on. */
export function reliabilityDiagram(o: {
  id: string;
  title: string;
  bins: { lower: number; upper: number; count: number; accuracy: number | null; meanConfidence: number | null }[];
  caption?: string;
}): string {
  const size = 300;
  const [left, top, bottom] = [48, 40, 40];
  const width = left + size + 150;
  const height = top + size + bottom;
  const px = (v: number) => left + v * size;
  const py = (v: number) => top + (1 - v) * size;
  const parts: string[] = [
    `<rect class="frame" x="${left}" y="${top}" width="${size}" height="${size}"/>`,
    `<path class="diagonal" d="M${px(0)} ${py(0)}L${px(1)} ${py(1)}"/>`,
  ];
  for (const t of ticks(0, 1, 6)) {
    parts.push(`<text class="tick" x="${num(px(t))}" y="${top + size + 16}" text-anchor="middle">${t.toFixed(1)}</text>`);
    parts.push(`<text class="tick" x="${left - 4}" y="${num(py(t) + 4)}" text-anchor="end">${t.toFixed(1)}</text>`);
  }
  parts.push(`<text class="axis-label" x="${num(px(0.5))}" y="${height - 6}" text-anchor="middle">confidence (predicted label's probability)</text>`);
  parts.push(`<text class="axis-label" x="12" y="${num(py(0.5))}" transform="rotate(-90 12 ${num(py(0.5))})" text-anchor="middle">accuracy</text>`);
  for (const b of o.bins) {
    if (b.accuracy === null || b.meanConfidence === null || b.count === 0) continue;
    const [x, w] = [px(b.lower) + 1, px(b.upper) - px(b.lower) - 2];
    parts.push(
      `<rect x="${num(x)}" y="${num(py(b.accuracy))}" width="${num(w)}" height="${num(py(0) - py(b.accuracy))}" fill="${palette[0]}"><title>${esc(`${b.lower.toFixed(1)}–${b.upper.toFixed(1)}: accuracy ${b.accuracy.toFixed(3)}, mean confidence ${b.meanConfidence.toFixed(3)}, ${b.count} rows`)}</title></rect>`,
    );
    const [a, c] = [py(b.accuracy), py(b.meanConfidence)];
    parts.push(`<rect class="gap" x="${num(x)}" y="${num(Math.min(a, c))}" width="${num(w)}" height="${num(Math.max(1, Math.abs(a - c)))}"/>`);
  }
  parts.push(
    `<rect x="${left + size + 16}" y="${top}" width="10" height="10" fill="${palette[0]}"/><text x="${left + size + 30}" y="${top + 9}">accuracy</text>`,
  );
  parts.push(
    `<rect class="gap" x="${left + size + 16}" y="${top + 18}" width="10" height="10"/><text x="${left + size + 30}" y="${top + 27}">gap to confidence</text>`,
  );
  parts.push(`<path class="diagonal" d="M${left + size + 16} ${top + 41}h10"/><text x="${left + size + 30}" y="${top + 45}">calibrated</text>`);
  return figure(o.id, o.title, width, height, parts.join(''), o.caption);
}
