import { describe, expect, it } from 'vitest';
import { sliceReport, slicesOf } from './slices';

describe('slices', () => {
  it('puts each text in one length and one script slice', () => {
    expect(slicesOf('อร่อยมาก')).toEqual(['length: ≤20 chars', 'script: Thai only']);
    expect(slicesOf('new mazda2 สวยมาก')).toEqual(['length: ≤20 chars', 'script: Thai + Latin']);
    expect(slicesOf('😍😍')).toEqual(['length: ≤20 chars', 'script: emoji/symbols only']);
    expect(slicesOf('great service '.repeat(10))[0]).toBe('length: >80 chars');
  });

  it('reports metrics per slice', () => {
    const texts = ['ดี', 'แย่', 'good', 'bad'];
    const report = sliceReport(['pos', 'neg'], texts, ['pos', 'neg', 'pos', 'neg'], ['pos', 'neg', 'neg', 'neg']);
    expect(report.find((r) => r.slice === 'script: Thai only')).toMatchObject({ n: 2, accuracy: 1 });
    expect(report.find((r) => r.slice === 'script: Latin only')).toMatchObject({ n: 2, accuracy: 0.5 });
    expect(report.find((r) => r.slice === 'length: ≤20 chars')?.n).toBe(4);
  });
});
