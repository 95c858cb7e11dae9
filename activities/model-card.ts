// The audit package's plain-text summary (the page with plots is audit-package/html.ts): the
// headline numbers in markdown, for a diff, an e-mail or a terminal.
import type { EvaluationFile, EvaluateInput } from './evaluate';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function renderModelCard(e: EvaluationFile, input: EvaluateInput): string {
  const { report } = e;
  const labels = input.labels;
  const lines = [
    `# Model card: ${e.model} version ${e.version}`,
    '',
    `Run \`${input.runKey}\`, artifacts in \`${input.runDir}\`, test rows: ${report.n}.`,
    '',
    'The full audit package, with plots, calibration, the champion comparison, token attributions, the data report and lineage, is `audit-package.html` beside this file (its data: `audit-package.json`).',
    '',
    '## Metrics on the held-out test split (95% bootstrap interval)',
    '',
    '| metric | value | interval |',
    '|---|---|---|',
    ...(['accuracy', 'macro_f1', 'macro_precision', 'macro_recall'] as const).map((m) => {
      const ci = e.intervals[m];
      return `| ${m} | ${pct(report[m])} | ${ci ? `${pct(ci.lower)} – ${pct(ci.upper)}` : '—'} |`;
    }),
    '',
    '## Gates',
    '',
    ...(e.gates.results.length
      ? e.gates.results.map((g) => `- ${g.passed ? 'PASS' : 'FAIL'} ${g.metric} = ${g.value.toFixed(4)} (min ${g.min})`)
      : ['- none set in the spec']),
    '',
    '## Per class',
    '',
    '| label | precision | recall | f1 | support |',
    '|---|---|---|---|---|',
    ...labels.map((l) => {
      const c = report.perClass[l]!;
      return `| ${l} | ${pct(c.precision)} | ${pct(c.recall)} | ${pct(c.f1)} | ${c.support} |`;
    }),
    '',
    '## Per slice',
    '',
    '| slice | rows | accuracy | macro-F1 |',
    '|---|---|---|---|',
    ...e.slices.map((x) => `| ${x.slice} | ${x.n} | ${pct(x.accuracy)} | ${pct(x.macro_f1)} |`),
    '',
    '## Confusion matrix (rows: truth, columns: predicted)',
    '',
    `| | ${labels.join(' | ')} |`,
    `|---|${labels.map(() => '---').join('|')}|`,
    ...labels.map((l, i) => `| **${l}** | ${report.confusion[i]!.join(' | ')} |`),
    '',
    '## Most confident errors',
    '',
    ...e.errors
      .slice(0, 10)
      .map((x) => `- truth **${x.label}**, predicted **${x.predicted}** (${pct(x.confidence)}): ${x.text.replace(/\s+/g, ' ').slice(0, 160)}`),
    '',
  ];
  return lines.join('\n');
}
