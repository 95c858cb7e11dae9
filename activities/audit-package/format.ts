// Small formatting pieces shared by the audit page's sections.
import type { Interval } from '../../domain/metrics';
import { esc } from './svg';

export const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
/** Differences in percentage points, signed. */
export const pp = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} pp`;
export const range = (i: Interval | undefined, f: (x: number) => string = pct) => (i ? `${f(i.lower)} – ${f(i.upper)}` : '—');

export const notRecorded = '<span class="not-recorded">not recorded</span>';

/** A value, or "not recorded" when nothing wrote it. */
export function orNotRecorded(value: unknown): string {
  if (value === null || value === undefined || value === '') return notRecorded;
  return esc(typeof value === 'string' ? value : JSON.stringify(value));
}

export function table(head: string[], rows: string[][], numeric: boolean[] = []): string {
  const th = head.map((h) => `<th>${h}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c, i) => (numeric[i] ? `<td class="num">${c}</td>` : `<td>${c}</td>`)).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table>`;
}

export function section(id: string, title: string, body: string): string {
  return `<section id="${esc(id)}"><h2>${esc(title)}</h2>${body}</section>`;
}
