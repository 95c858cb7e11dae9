import { describe, expect, it } from 'vitest';
import { progressInEpoch2, progressInEpoch2Line } from '../test/fakes/training-progress';
import { formatJobProgress, formatTrainingProgress, parseTrainingProgress, trialOfKey, TRIAL_DONE_PHASE } from './training-progress';

const at = '2026-11-30T12:00:00+00:00';
const now = Date.parse(at) + 4_000;
const written = progressInEpoch2(at);

describe('training progress (progress.json)', () => {
  it('reads what the job writes, and nothing else', () => {
    expect(parseTrainingProgress(JSON.stringify(written))).toEqual(written);
    expect(parseTrainingProgress(JSON.stringify({ phase: 'teacher', updatedAt: at }))).toEqual({ phase: 'teacher', updatedAt: at });
    // Half a file, another file's JSON, or nonsense in a field: no view rather than an error.
    expect(parseTrainingProgress('{"phase": "train')).toBeNull();
    expect(parseTrainingProgress(JSON.stringify({ epochs: 3 }))).toBeNull();
    expect(parseTrainingProgress(JSON.stringify({ ...written, step: -1 }))).toBeNull();
    expect(parseTrainingProgress(JSON.stringify({ ...written, validation: { epoch: 1, val_macro_f1: 'high' } }))).toBeNull();
  });

  it('says where training is, the last validation and how old the news is', () => {
    expect(formatTrainingProgress(written, now)).toBe(`${progressInEpoch2Line} · 4s ago`);
    // The wait line prints whenever it changes: without a clock it does not change every second.
    expect(formatTrainingProgress(written)).not.toContain('ago');
    expect(formatTrainingProgress({ phase: 'teacher', updatedAt: at }, now)).toBe('fitting the distillation teacher · 4s ago');
    expect(formatTrainingProgress({ phase: 'something new', updatedAt: 'not a date' }, now)).toBe('something new');
  });

  it("finds a search's trials by their progress file (or another file named), and nothing else", () => {
    const run = 'models/m/runs/r1';
    expect(trialOfKey(run, `${run}/trial-12/progress.json`)).toBe(12);
    expect(trialOfKey(run, `${run}/trial-3/DONE`, 'DONE')).toBe(3);
    expect(trialOfKey(run, `${run}/trial-3/DONE`)).toBeNull();
    expect(trialOfKey(run, `${run}/trial-3/checkpoints/DONE`, 'DONE')).toBeNull();
    for (const other of [
      `${run}/progress.json`,
      `${run}/trial-1/checkpoints/progress.json`,
      `${run}/trial-x/progress.json`,
      `models/m/runs/r10/trial-1/progress.json`,
    ])
      expect(trialOfKey(run, other), other).toBeNull();
  });

  it("says a run's progress in one line, a search's in a line per trial", () => {
    expect(formatJobProgress({ progress: written, trials: [{ trial: 3, progress: written }] })).toHaveLength(1);
    const trial = (phase: string) => ({ phase, updatedAt: at, validation: { epoch: 2, val_macro_f1: 0.5 } });
    expect(
      formatJobProgress({
        progress: null,
        trials: [
          { trial: 3, progress: trial('teacher') },
          { trial: 4, progress: trial(TRIAL_DONE_PHASE) },
        ],
      }),
    ).toEqual(['trial 3: fitting the distillation teacher · validation (epoch 2) macro_f1 0.5000', 'trial 4: finished · validation (epoch 2) macro_f1 0.5000']);
    expect(formatJobProgress({ progress: null })).toEqual([]);
  });
});
