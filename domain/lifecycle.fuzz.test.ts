// Property tests for the human messages a lifecycle receives (audit decisions, deploy, retrain
// and rollback requests): whatever JSON arrives, each schema accepts it or refuses it with
// messages, an accepted one stays the same through validation again and the JSON of workflow
// history, and the judges answer with a verdict (a refusal with its reason), never a throw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzSeed, fuzzTimeoutMs, mutated, nastyJson, nudged, preview, shown } from '../test/fuzz/arbitraries';
import { messageKinds, situation, type MessageKind, type Situation } from '../test/fuzz/messages';

function checkMessage(kind: MessageKind<unknown>, raw: unknown, s: Situation): 'accepted' | 'refused' | 'invalid' {
  let parsed;
  try {
    parsed = kind.schema.safeParse(raw);
  } catch (e) {
    throw new Error(`${kind.name} schema threw ${(e as Error)?.name} on ${preview(raw)}: ${(e as Error)?.message}`, { cause: e });
  }
  if (!parsed.success) {
    expect(parsed.error.issues.length).toBeGreaterThan(0);
    for (const issue of parsed.error.issues) expect(issue.message.trim()).not.toBe('');
    return 'invalid';
  }
  expect(kind.schema.parse(structuredClone(parsed.data))).toEqual(parsed.data);
  const wire = JSON.stringify(parsed.data);
  expect(JSON.stringify(kind.schema.parse(JSON.parse(wire)))).toBe(wire);

  const verdict = kind.judge(parsed.data, s);
  if (verdict.accepted) return 'accepted';
  expect(verdict.why.trim()).not.toBe('');
  expect(verdict.why.length).toBeLessThanOrEqual(1_000);
  return 'refused';
}

describe.each(messageKinds)('$name on bad input (property)', (kind) => {
  it('the example is valid', () => {
    expect(kind.schema.safeParse(kind.example).success).toBe(true);
  });

  it(
    'any JSON, or the example broken or nudged: accepted and judged, or refused with messages',
    () => {
      const seen = { accepted: 0, refused: 0, invalid: 0 };
      const payload = fc.oneof(mutated(kind.example), nudged(kind.example), nastyJson);
      fc.assert(
        fc.property(shown(payload), situation, ({ value }, s) => {
          seen[checkMessage(kind, value, s)]++;
        }),
        { numRuns: 300, seed: fuzzSeed },
      );
      // Each way out was taken, or the property proved less than it says.
      expect(seen.accepted).toBeGreaterThan(0);
      expect(seen.refused).toBeGreaterThan(0);
      expect(seen.invalid).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );
});
