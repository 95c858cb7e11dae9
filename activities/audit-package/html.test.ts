import { describe, expect, it } from 'vitest';
import { calibration } from '../../domain/calibration';
import { bootstrapDifference, bootstrapReport, classificationReport } from '../../domain/metrics';
import { metricNames } from '../../domain/spec';
import { sliceReport } from '../../domain/slices';
import { renderAuditPage } from './html';
import { AUDIT_PACKAGE_SCHEMA, type AuditPackage, type ChampionComparison } from './model';
import { REPORT_CSP } from './page';

const hostile = '<script>alert("x")</script> & \'q\'';
const labels = ['neg', 'pos', hostile];
const texts = ['ร้านนี้อร่อยมาก 😊', 'แย่มาก', 'so-so https://example.com/x', `${hostile} ดีมาก`, 'ok', 'ไม่ชอบเลย'];
const truth = ['pos', 'neg', hostile, hostile, 'pos', 'neg'];
const predicted = ['pos', 'neg', 'pos', hostile, 'neg', 'neg'];
const confidences = [0.95, 0.8, 0.6, 0.7, 0.55, 0.99];

function fixture(
  champion: ChampionComparison = { status: 'none', reason: 'No version of m is deployed: there is no champion to compare with yet.' },
): AuditPackage {
  const report = classificationReport(labels, truth, predicted);
  return {
    schema: AUDIT_PACKAGE_SCHEMA,
    model: 'm',
    version: 2,
    generatedAt: '2026-01-01T00:00:00.000Z',
    runKey: 'mlc-m/g1/a1',
    runUri: 'file:///data/models/m/runs/r',
    datasetUri: 'file:///data/datasets/m/abc',
    labels,
    report,
    intervals: bootstrapReport(labels, truth, predicted, { iterations: 50, seed: 1 }),
    gates: { passed: false, results: [{ metric: 'macro_f1', min: 0.9, value: report.macro_f1, passed: false }] },
    calibration: calibration(
      confidences,
      predicted.map((p, i) => p === truth[i]),
    ),
    slices: sliceReport(labels, texts, truth, predicted),
    training: {
      epochs: [
        { epoch: 1, step: 10, train_loss: 1.1, val_loss: 1.0, val_accuracy: 0.4, val_macro_f1: 0.3 },
        { epoch: 2, step: 20, train_loss: 0.7, val_loss: 0.8, val_accuracy: 0.6, val_macro_f1: 0.5 },
      ],
      steps: [
        { step: 10, loss: 1.2, lr: 0.001 },
        { step: 20, loss: 0.8, lr: 0.0005 },
      ],
      best: { epoch: 2, val_macro_f1: 0.5 },
      stoppedEarly: false,
    },
    data: {
      input: 12,
      kept: 9,
      perLabel: { train: { neg: 2, pos: 2, [hostile]: 1 }, valid: { neg: 1, pos: 0, [hostile]: 0 }, test: { neg: 2, pos: 2, [hostile]: 2 } },
      quarantinedByReason: { malformed: 1, empty_text: 0, unknown_label: 1, conflicting_label: 0 } as never,
      duplicatesRemoved: 1,
      unknownLabels: { great: 1 },
      imbalance: 1.5,
      warnings: [`label ${hostile} has 0 rows in the smaller of valid/test`],
    },
    lineage: {
      datasetHash: 'abc123',
      gitCommit: null,
      params: { epochs: 2, learningRate: 0.001 },
      warmStart: null,
      pretrainedDir: null,
      cluster: 'local',
      slurmJobId: '42',
      node: null,
      trainSeconds: 12.5,
      device: 'cpu',
      precision: 'fp32',
      trainingVersions: {},
      evaluationVersions: { scorer: 'onnxruntime-node 1.30.0', node: '20.0.0' },
    },
    champion,
    explanations: {
      status: 'explained',
      method: 'leave-one-token-out',
      items: [
        {
          kind: 'error',
          text: 'so-so',
          label: hostile,
          predicted: 'pos',
          confidence: 0.6,
          attribution: {
            label: 'pos',
            probability: 0.6,
            tokens: [
              { text: 'so', weight: 0.2 },
              { text: '-', weight: -0.05 },
              { text: 'so', weight: 0 },
              { text: '<b>', weight: null },
            ],
          },
        },
      ],
    },
    errors: [
      { text: texts[2]!, label: hostile, predicted: 'pos', confidence: 0.6 },
      { text: 'ไม่ชอบเลย 😡 น้ำตาไหล', label: 'neg', predicted: 'pos', confidence: 0.55 },
    ],
  };
}

function charts(html: string): string[] {
  return [...html.matchAll(/data-chart="([^"]+)"/g)].map((m) => m[1]!);
}

describe('renderAuditPage', () => {
  it('escapes every piece of text: a label typed as a script tag stays text', () => {
    const html = renderAuditPage(fixture());
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;');
    expect(html).toContain('<span lang="th">ไม่ชอบเลย 😡 น้ำตาไหล</span>');
  });

  it('is self-contained: a strict CSP, and nothing that could load from elsewhere', () => {
    const html = renderAuditPage(fixture());
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed|script)\b/i);
    expect(html).not.toMatch(/\s(src|href)="(?!#)/i);
    expect(html).not.toMatch(/url\(/i);
    // A URL in the data is text, not a link.
    expect(html).toContain('so-so https://example.com/x');
    expect(html).not.toContain('href="https://');
  });

  it('draws every plot, each with shapes in it', () => {
    const html = renderAuditPage(fixture());
    expect(charts(html)).toEqual([
      'metrics',
      'per-class',
      'confusion',
      'reliability',
      'confidence',
      'loss-per-epoch',
      'validation-per-epoch',
      'loss-per-step',
      'slices',
      'data-per-label',
    ]);
    for (const figure of html.split('<figure').slice(1)) expect(figure).toMatch(/<(rect|path|circle)\b/);
    expect(html).not.toContain('NaN');
    // 3 labels → a 3×3 heat map.
    expect(html.match(/class="cell"/g)).toHaveLength(9);
  });

  it('says "not recorded" for lineage nobody wrote, and shows what was', () => {
    const html = renderAuditPage(fixture());
    const lineage = html.slice(html.indexOf('id="lineage"'));
    expect(lineage).toMatch(/git commit of the training code<\/td><td><span class="not-recorded">not recorded/);
    expect(lineage).toMatch(/node<\/td><td><span class="not-recorded">not recorded/);
    expect(lineage).toContain('<code>abc123</code>');
    expect(lineage).toContain('12.5 s');
    expect(lineage).toContain('learningRate');
    expect(lineage).toMatch(/started from<\/td><td>random weights \(trained from scratch\)/);
  });

  it('names the run a warm-started version began from, with the hash of its weights', () => {
    const base = fixture();
    const html = renderAuditPage({ ...base, lineage: { ...base.lineage, warmStart: { run: 'mlc-m-abc-g1-a1', modelSha256: 'f00d' } } });
    const lineage = html.slice(html.indexOf('id="lineage"'));
    expect(lineage).toContain(
      'started from</td><td>the weights and tokenizer of run <code>mlc-m-abc-g1-a1</code> (a warm start, its <code>model.pt</code> sha256 <code>f00d</code>)',
    );
  });

  it('highlights tokens by weight and marks the ones past the maximum length', () => {
    const html = renderAuditPage(fixture());
    expect(html).toContain('<span style="background:rgba(213,94,0,0.800)" title="+0.2000">so</span>');
    expect(html).toMatch(/<span style="background:rgba\(0,114,178,0\.\d+\)" title="-0.0500">-<\/span>/);
    expect(html).toContain(`<span class="unread" title="past the model's maximum length: not read">&lt;b&gt;</span>`);
  });

  it('says why there is no champion, or compares the two on the same rows', () => {
    expect(renderAuditPage(fixture())).toContain('there is no champion to compare with yet');
    const championPredicted = ['pos', 'pos', hostile, hostile, 'pos', 'neg'];
    const report = classificationReport(labels, truth, championPredicted);
    const html = renderAuditPage(
      fixture({
        status: 'compared',
        champion: {
          version: 1,
          deployedAt: '2025-12-01T00:00:00.000Z',
          target: 'local',
          sha256: 'f'.repeat(64),
          report,
          intervals: bootstrapReport(labels, truth, championPredicted, { iterations: 50 }).metrics,
          differences: Object.fromEntries(
            metricNames.map((m) => [m, bootstrapDifference(labels, truth, championPredicted, predicted, m, { iterations: 50 })]),
          ) as never,
          agreement: 4 / 6,
        },
      }),
    );
    expect(charts(html)).toEqual(expect.arrayContaining(['champion-vs-challenger', 'champion-difference']));
    expect(html).toContain('They agree on 66.7% of them');
    expect(html).toContain('champion v1');
  });
});
