import { describe, expect, it } from 'vitest';
import { scheduleNote } from './deploy';

describe('scheduleNote', () => {
  it('keeps short notes and clips a monitor-length reason well under Temporal’s ~1 KiB limit', () => {
    expect(scheduleNote('retraining after: drift')).toBe('retraining after: drift');
    const long = 'retraining after: ' + 'ข้อมูลเปลี่ยน '.repeat(200);
    const note = scheduleNote(long);
    expect(note.length).toBeLessThanOrEqual(200);
    expect(Buffer.byteLength(note)).toBeLessThan(1000);
    expect(note).toContain('mlc history');
  });
});
