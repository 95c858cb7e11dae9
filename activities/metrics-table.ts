// The metric tables of the model card, in markdown: one definition, so `mlc evaluate` on a
// team's own golden set prints exactly what the model card shows for the test split.
import type { ClassificationReport, Interval } from '../domain/metrics';
import { metricNames, type MetricName } from '../domain/spec';

export const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Accuracy and the macro averages, each with its bootstrap interval when there is one. */
export function metricsTable(report: ClassificationReport, intervals: Partial<Record<MetricName, Interval>>): string[] {
  return [
    '| metric | value | interval |',
    '|---|---|---|',
    ...metricNames.map((m) => {
      const ci = intervals[m];
      return `| ${m} | ${pct(report[m])} | ${ci ? `${pct(ci.lower)} – ${pct(ci.upper)}` : '—'} |`;
    }),
  ];
}

export function perClassTable(report: ClassificationReport): string[] {
  return [
    '| label | precision | recall | f1 | support |',
    '|---|---|---|---|---|',
    ...report.labels.map((l) => {
      const c = report.perClass[l]!;
      return `| ${l} | ${pct(c.precision)} | ${pct(c.recall)} | ${pct(c.f1)} | ${c.support} |`;
    }),
  ];
}

/** Rows: truth; columns: predicted. */
export function confusionTable(report: ClassificationReport): string[] {
  const { labels } = report;
  return [
    `| | ${labels.join(' | ')} |`,
    `|---|${labels.map(() => '---').join('|')}|`,
    ...labels.map((l, i) => `| **${l}** | ${report.confusion[i]!.join(' | ')} |`),
  ];
}
