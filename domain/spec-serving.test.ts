import { describe, expect, it } from 'vitest';
import { parseSpec, SpecError } from './spec';

const minimal = { name: 'thai-sentiment', labels: ['neg', 'pos'], data: { path: 'd.jsonl' }, roles: { auditors: ['alice'], deployers: ['bob'] } };

describe('serving.precision', () => {
  it('defaults to fp32 and accepts int8', () => {
    expect(parseSpec(minimal).serving).toEqual({ precision: 'fp32' });
    expect(parseSpec({ ...minimal, serving: { precision: 'int8' } }).serving.precision).toBe('int8');
  });

  it('refuses anything else, saying what each choice means', () => {
    const error = (() => {
      try {
        parseSpec({ ...minimal, serving: { precision: 'fp16' } });
      } catch (e) {
        return e as SpecError;
      }
    })();
    expect(error).toBeInstanceOf(SpecError);
    expect(error!.issues).toEqual([
      { path: 'serving.precision', message: expect.stringMatching(/^must be "fp32" \(the model as trained\) or "int8" .* got "fp16"$/) as string },
    ]);
    expect(() => parseSpec({ ...minimal, serving: { precision: 'int8', bits: 4 } })).toThrow(/serving: Unrecognized key/);
  });
});
