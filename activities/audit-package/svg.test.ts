import { describe, expect, it } from 'vitest';
import { barChart, esc, heatMap, histogram, lineChart, reliabilityDiagram } from './svg';

const shapes = (svg: string, tag: string) => (svg.match(new RegExp(`<${tag}\\b`, 'g')) ?? []).length;

describe('svg charts', () => {
  it('escapes the five HTML metacharacters and leaves Thai alone', () => {
    expect(esc(`<a href="x">'&'</a> ดีมาก`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt; ดีมาก');
  });

  it('draws one bar per category and series, with a whisker for each interval', () => {
    const svg = barChart({
      id: 'b',
      title: 't',
      categories: ['a', 'b', 'c'],
      series: [
        { name: 'x', values: [0.1, 0.5, 0.9], lower: [0, 0.4, 0.8], upper: [0.2, 0.6, 1] },
        { name: 'y', values: [0.3, 0.2, 0.1] },
      ],
      min: 0,
      max: 1,
    });
    // 2 legend swatches + 6 bars.
    expect(shapes(svg, 'rect')).toBe(8);
    expect(svg.match(/class="whisker"/g)).toHaveLength(3);
    expect(svg).toContain('data-chart="b"');
  });

  it('puts a zero line on a chart of differences, and bars on both sides of it', () => {
    const svg = barChart({ id: 'd', title: 't', categories: ['a', 'b'], series: [{ name: 'd', values: [-0.1, 0.2] }], min: -0.3, max: 0.3 });
    expect(svg).toContain('class="zero"');
    const xs = [...svg.matchAll(/<rect x="([\d.]+)"[^>]*width="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
    const zero = Number(/class="zero" x1="([\d.]+)"/.exec(svg)![1]);
    expect(xs[0]![0] + xs[0]![1]).toBeCloseTo(zero, 1); // the negative bar ends at zero
    expect(xs[1]![0]).toBeCloseTo(zero, 1); // the positive bar starts there
  });

  it('never writes NaN coordinates, even for a flat or single-point series', () => {
    const flat = lineChart({ id: 'l', title: 't', xLabel: 'epoch', series: [{ name: 'loss', points: [[1, 0.5]] }] });
    expect(flat).not.toContain('NaN');
    expect(shapes(flat, 'path')).toBe(1);
    const empty = histogram({ id: 'h', title: 't', xLabel: 'p', bins: [{ lower: 0, upper: 1 }], series: [{ name: 'n', counts: [0] }] });
    expect(empty).not.toContain('NaN');
  });

  it('shades a heat map cell per count and skips empty reliability bins', () => {
    const hm = heatMap({
      id: 'c',
      title: 't',
      rows: ['a', 'b'],
      columns: ['a', 'b'],
      counts: [
        [3, 1],
        [0, 4],
      ],
      rowTitle: 'truth',
      columnTitle: 'predicted',
    });
    expect(hm.match(/class="cell"/g)).toHaveLength(4);
    expect(hm).toContain('a → b: 1 (25.0% of a)');
    const rd = reliabilityDiagram({
      id: 'r',
      title: 't',
      bins: [
        { lower: 0, upper: 0.5, count: 0, accuracy: null, meanConfidence: null },
        { lower: 0.5, upper: 1, count: 4, accuracy: 0.5, meanConfidence: 0.75 },
      ],
    });
    expect(rd.match(/accuracy 0.500, mean confidence 0.750, 4 rows/g)).toHaveLength(1);
  });
});
