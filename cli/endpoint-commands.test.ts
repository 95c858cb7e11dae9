import { describe, expect, it } from 'vitest';
import { feedbackItem } from './endpoint-commands';

const fields = { text: 'text', label: 'label', requestId: 'requestId' };

describe('feedbackItem (mlc feedback rows)', () => {
  it('takes a text, a request id, or both', () => {
    expect(feedbackItem({ text: 'ดีมาก', label: ' pos ' }, fields)).toEqual({ text: 'ดีมาก', label: 'pos' });
    expect(feedbackItem({ requestId: ' r1 ', label: 'neg' }, fields)).toEqual({ requestId: 'r1', label: 'neg' });
    expect(feedbackItem({ text: '', requestId: 'r1', label: 'neg' }, fields)).toEqual({ requestId: 'r1', label: 'neg' }); // an empty CSV cell
    expect(feedbackItem({ msg: 'x', rid: 'r2', y: 'pos' }, { text: 'msg', label: 'y', requestId: 'rid' })).toEqual({
      text: 'x',
      requestId: 'r2',
      label: 'pos',
    });
  });

  it('says what a bad row lacks and how to fix it', () => {
    expect(feedbackItem({ text: 'x' }, fields)).toBe('needs a string "label"');
    expect(feedbackItem({ label: 'pos', text: ' ' }, fields)).toMatch(
      /^needs "text" \(the text that was scored\) or "requestId" \(the request id it was served under\), or both; .*--request-id-field/,
    );
    expect(feedbackItem({ label: 'pos', requestId: 42 }, fields)).toBe('"requestId" must be a string, not number (quote it in JSONL)');
    expect(feedbackItem({ label: 'pos', text: 7, requestId: 'r' }, fields)).toBe('"text" must be a string, not number');
  });
});
