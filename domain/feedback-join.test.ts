import { describe, expect, it } from 'vitest';
import { joinFeedback, unjoinedReasons } from './feedback-join';

const served = [
  { requestId: 'r1', text: 'ดีมาก', label: 'pos' },
  { requestId: 'batch', text: 'แย่', label: 'neg' },
  { requestId: 'batch', text: 'ok  ครับ', label: 'neu' },
  { requestId: 'retried', text: 'same', label: 'pos' },
  { requestId: 'retried', text: 'same', label: 'pos' },
];

describe('joinFeedback', () => {
  it('joins by request id, re-scores text-only rows, and keeps the rest apart', () => {
    const fb = [
      { requestId: 'r1', label: 'neg' },
      { requestId: 'r1', text: 'an unclean copy', label: 'pos' },
      { text: 'no id', label: 'pos' },
      { requestId: 'nope', label: 'pos' },
      { requestId: 'batch', label: 'neg' },
      { requestId: 'batch', text: 'ok ครับ', label: 'neu' },
      { requestId: 'batch', text: 'neither', label: 'neu' },
      { requestId: 'retried', label: 'pos' },
    ];
    const j = joinFeedback(fb, served);
    expect(j.joined.map((x) => [x.feedback, x.served])).toEqual([
      [fb[0], served[0]],
      [fb[1], served[0]], // one candidate: the id decides, whatever the copy of the text
      [fb[5], served[2]], // the text (normalized) picks within a batch
      [fb[7], served[3]], // repeated log lines of one text are one prediction
    ]);
    expect(j.textOnly).toEqual([fb[2]]);
    expect(j.unmatched).toEqual([fb[3]]);
    expect(j.ambiguous).toEqual([fb[4], fb[6]]);
  });

  it('says which ids were not served and which were ambiguous', () => {
    const j = joinFeedback(
      [
        { requestId: 'gone', label: 'pos' },
        { requestId: 'gone', label: 'neg' },
        { requestId: 'batch', label: 'neg' },
      ],
      served,
    );
    const reasons = unjoinedReasons(j, { version: 3, since: '2026-01-01T00:00:00.000Z' });
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toMatch(/^2 feedback rows name request ids not served by version 3 since 2026-01-01T00:00:00.000Z: gone;/);
    expect(reasons[1]).toMatch(/^1 feedback rows name batch requests that served several texts: batch; .*send each row with the text/);
    const many = joinFeedback(
      Array.from({ length: 7 }, (_, i) => ({ requestId: `x${i}`, label: 'pos' })),
      [],
    );
    expect(unjoinedReasons(many, { version: 1, since: 's' })[0]).toContain('x0, x1, x2, x3, x4, … (7 ids)');
    expect(unjoinedReasons(joinFeedback([{ requestId: 'r1', label: 'pos' }], served), { version: 1, since: 's' })).toEqual([]);
  });
});
