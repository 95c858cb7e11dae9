// The pure half of reading Azure request logs: line parsing and hour folders. Reading real
// blobs written by the real score.py is in test/integration/azureml-score.test.ts.
import { describe, expect, it } from 'vitest';
import { hourParts, parseRequestLogLine } from './request-log';

const line = {
  requestId: 'r1',
  model: 'm',
  version: 3,
  deployment: 'blue',
  text: 'ดีมาก',
  label: 'pos',
  probabilities: { neg: 0.1, pos: 0.9 },
  at: '2026-03-04T05:06:07.890Z',
};

describe('parseRequestLogLine', () => {
  it('turns a score.py line into a prediction record with createdAt', () => {
    expect(parseRequestLogLine(JSON.stringify(line))).toEqual({
      model: 'm',
      version: 3,
      requestId: 'r1',
      text: 'ดีมาก',
      label: 'pos',
      probabilities: { neg: 0.1, pos: 0.9 },
      createdAt: '2026-03-04T05:06:07.890Z',
    });
  });

  it('accepts an offset time and normalises it to UTC', () => {
    const r = parseRequestLogLine(JSON.stringify({ ...line, at: '2026-03-04T12:06:07.890+07:00' }));
    expect(r).toMatchObject({ createdAt: '2026-03-04T05:06:07.890Z' });
  });

  it('says why a line is malformed', () => {
    expect(parseRequestLogLine('{"requestId": "r1", trunc')).toMatchObject({ malformed: expect.stringMatching(/^not JSON/) });
    expect(parseRequestLogLine(JSON.stringify({ ...line, version: '3' }))).toMatchObject({ malformed: expect.stringContaining('version') });
    expect(parseRequestLogLine(JSON.stringify({ ...line, at: 'yesterday' }))).toMatchObject({ malformed: expect.stringContaining('at') });
    expect(parseRequestLogLine('[]')).toHaveProperty('malformed');
  });
});

describe('hourParts', () => {
  it('spells the UTC hour as score.py names its folders', () => {
    expect(hourParts(new Date('2026-01-02T03:59:59.999Z'))).toEqual(['2026', '01', '02', '03']);
    expect(hourParts(new Date('2025-12-31T23:30:00-02:00'))).toEqual(['2026', '01', '01', '01']);
  });
});
