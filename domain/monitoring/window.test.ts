// A window judged against a reference built the way evaluation builds it. The data are
// synthetic but shaped like the corpus: Thai text with some Latin, digits and emoji, three
// labels whose probabilities do not depend on the text's length.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../random';
import { estimatePerformance, type Calibrator } from './cbpe';
import { summarize, type ScoredRow } from './features';
import { judgeWindow, type MonitoringReference } from './window';

const labels = ['neg', 'neu', 'pos'];
const identity: Calibrator = { kind: 'identity', why: 'test' };
const thresholds = { psiThreshold: 0.25, minPredictions: 50, minEstimatedAccuracy: 0.5 };

/** `doubled`: every text written twice over, so its length doubles and its script shares stay as they were. */
function rows(n: number, seed: number, o: { doubled?: boolean; confidence?: number; embedding?: { shift: number } } = {}): ScoredRow[] {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  // 16 dimensions, the first 3 moved by `shift`: a topic the texts' surface statistics do not show.
  const embedding = (shift: number) => Array.from({ length: 16 }, (_, k) => normal() + (k < 3 ? shift : 0));
  const words = ['อาหาร', 'อร่อย', 'ร้าน', 'บริการ', 'ราคา', 'ดีมาก', 'ok', 'good', '555', '😊'];
  return Array.from({ length: n }, () => {
    const count = 2 + Math.floor(random() * 8);
    const once = Array.from({ length: count }, () => words[Math.floor(random() * words.length)]).join(' ');
    const text = o.doubled ? once + once : once;
    const label = labels[Math.floor(random() * labels.length)]!;
    const top = (o.confidence ?? 0.6) + random() * 0.35;
    const probabilities = Object.fromEntries(labels.map((l) => [l, l === label ? top : (1 - top) / 2]));
    return { text, label, probabilities, ...(o.embedding ? { embedding: embedding(o.embedding.shift) } : {}) };
  });
}

function reference(seed = 1): MonitoringReference {
  const summary = summarize(rows(2000, seed), labels);
  return {
    summary,
    calibrator: identity,
    testAccuracy: 0.8,
    testMacroF1: 0.78,
    estimatedTestAccuracy: estimatePerformance(summary, labels, identity)!.accuracy.value,
  };
}

describe('judgeWindow', () => {
  const ref = reference();

  it('catches a shift in text length alone, labels and confidence unchanged, and names the feature', () => {
    for (const n of [400, 5000]) {
      const v = judgeWindow(ref, summarize(rows(n, 7, { doubled: true }), labels), labels, thresholds);
      expect(v.breached).toBe(true);
      expect(v.features.filter((f) => f.drifted).map((f) => f.feature)).toEqual(['chars']);
      expect(v.movedMost).toBe('chars');
      expect(v.firedBy).toHaveLength(1);
      const test = n > 1000 ? /normed Wasserstein distance \d\.\d+ is at or above 0\.1/ : /Kolmogorov–Smirnov p .* is below 0\.05/;
      expect(v.firedBy[0]).toMatch(test);
      expect(v.firedBy[0]).toMatch(/input "text length" \(chars\) drifted: .*mean \d+\.\d in the reference → \d+\.\d now/);
      expect(v.labelDrift!.drifted).toBe(false);
    }
  });

  it('a window from the reference’s own distribution does not breach, and says what it measured', () => {
    const v = judgeWindow(ref, summarize(rows(3000, 99), labels), labels, thresholds);
    expect(v.breached).toBe(false);
    expect(v.notes.join('\n')).toMatch(/no input or output drift: 11 features tested \(Benjamini–Hochberg at 5%\)/);
    expect(v.notes.join('\n')).toMatch(/estimated accuracy \(CBPE, identity calibration\) 7\d\.\d%/);
  });

  it('a huge window’s trivial length change is significant but too small to count (effect guard)', () => {
    // 1 in 5 texts gets one more word: KS sees it at 50,000 rows a side, the normed distance stays far below 0.1.
    const random = seededRandom(3);
    const window = rows(50_000, 11).map((r) => (random() < 0.2 ? { ...r, text: `${r.text} ok` } : r));
    const big = { ...ref, summary: summarize(rows(50_000, 12), labels) };
    const v = judgeWindow(big, summarize(window, labels), labels, thresholds);
    const chars = v.features.find((f) => f.feature === 'chars')!;
    expect(chars.adjustedP).toBeLessThan(0.05);
    expect(chars.effect).toBeLessThan(0.1);
    expect(chars.drifted).toBe(false);
    expect(v.breached).toBe(false);
  });

  it('catches a shift of the embeddings alone (texts, labels and confidence from the reference distribution) and says so', () => {
    const embedded = { ...ref, summary: summarize(rows(2000, 1, { embedding: { shift: 0 } }), labels) };
    expect(embedded.summary.embeddings).toHaveLength(500); // the bounded reservoir sample
    const v = judgeWindow(embedded, summarize(rows(3000, 99, { embedding: { shift: 0.5 } }), labels), labels, thresholds);
    expect(v.features.filter((f) => f.drifted)).toEqual([]);
    expect(v.embedding).toMatchObject({ drifted: true, referenceRows: 500, currentRows: 500, dimensions: 16 });
    expect(v.embedding!.auc).toBeGreaterThan(0.6);
    expect(v.breached).toBe(true);
    expect(v.firedBy).toEqual([
      expect.stringMatching(
        /^embedding drift: .*domain-classifier ROC AUC 0\.\d+ \(threshold 0\.55, shuffled-label p 0\.024; 500 vs 500 rows, 16 dimensions\), MMD²/,
      ),
    ]);

    const same = judgeWindow(embedded, summarize(rows(3000, 98, { embedding: { shift: 0 } }), labels), labels, thresholds);
    expect(same.embedding!.drifted).toBe(false);
    expect(same.notes.join('\n')).toMatch(/no embedding drift: domain-classifier ROC AUC/);
    // Without embeddings on one side, it says why it did not judge them.
    expect(judgeWindow(embedded, summarize(rows(3000, 97), labels), labels, thresholds).notes.join('\n')).toMatch(
      /embedding drift not judged: 500 reference and 0 current embeddings .*the window logged no embeddings/,
    );
  }, 60_000);

  it('falls back on no test while the window is smaller than minPredictions', () => {
    const v = judgeWindow(ref, summarize(rows(10, 5), labels), labels, thresholds);
    expect(v).toMatchObject({ judged: false, breached: false, features: [] });
    expect(v.notes[0]).toMatch(/10 predictions in the window, fewer than 50/);
  });

  it('a falling estimate alone breaches: the model is unsure, nothing else moved much', () => {
    const v = judgeWindow(ref, summarize(rows(2000, 21, { confidence: 0.34 }), labels), labels, { ...thresholds, minEstimatedAccuracy: 0.7 });
    expect(v.performance!.accuracy.upper).toBeLessThan(0.7);
    expect(
      v.firedBy.some((f) => /estimated accuracy \(CBPE, identity calibration\) .* the whole 95% band is below 70\.0%, with no labels needed/.test(f)),
    ).toBe(true);
  });

  it('false alarms on 200 windows without shift stay at or below 5%', () => {
    let flagged = 0;
    for (let w = 0; w < 200; w++) if (judgeWindow(ref, summarize(rows(300, 1000 + w), labels), labels, thresholds).breached) flagged++;
    expect(flagged / 200).toBeLessThanOrEqual(0.05);
  }, 60_000);
});
