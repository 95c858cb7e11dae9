// Property tests for parseSpec on bad input: the examples broken in a few places, and random
// JSON. Each input is either a spec that validates again to the same spec (also after the JSON
// round trip a workflow input makes), or a SpecError naming field paths in a message short
// enough to read, never a TypeError or RangeError from inside the validator.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { fuzzSeed, fuzzTimeoutMs, mutated, nastyJson, nudged, preview, shown } from '../test/fuzz/arbitraries';
import { parseSpec, SpecError, type ModelSpec } from './spec';

const example = (name: string) => parseYaml(readFileSync(new URL(`../examples/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const local = example('thai-sentiment.yaml');
/** Every optional part present, so mutations reach the search space, the Azure rollout and the role rules. */
const everything = {
  ...example('thai-sentiment-azure.yaml'),
  training: {
    ...(local.training as object),
    search: { trials: 4, concurrency: 2, space: { learningRate: [1e-4, 5e-4], dropout: [0.1, 0.2] } },
    pretrainedDir: '/models/roberta',
    maxInfraRetries: 1,
  },
  roles: { auditors: ['alice', 'carol'], deployers: ['bob'], signatures: 'required', separationOfDuties: true },
};
const bases = [local, everything, parseSpec(everything) as unknown];

/** What a reader can take in; the longest message the fix in spec.ts lets through is well under it. */
const maxMessage = 8_000;

function checkOutcome(input: unknown): void {
  let spec: ModelSpec;
  try {
    spec = parseSpec(input, 'fuzz.yaml');
  } catch (e) {
    if (!(e instanceof SpecError)) throw new Error(`parseSpec threw ${(e as Error)?.name}: ${(e as Error)?.message} on ${preview(input)}`, { cause: e });
    expect(e.issues.length).toBeGreaterThan(0);
    for (const issue of e.issues) {
      expect(typeof issue.path).toBe('string');
      expect(issue.message.trim()).not.toBe('');
    }
    expect(e.message.length).toBeLessThanOrEqual(maxMessage);
    expect(e.message).toContain('fuzz.yaml');
    expect(e.message).toMatch(/^ {2}- (\(root\)|[^\s:][^:]*): \S/m);
    return;
  }
  // Accepted: stable under validation again, and under the JSON a workflow input goes through.
  expect(parseSpec(structuredClone(spec))).toEqual(spec);
  const wire = JSON.stringify(spec);
  expect(JSON.stringify(parseSpec(JSON.parse(wire)))).toBe(wire);
}

describe('parseSpec on bad input (property)', () => {
  it('accepts every example unchanged', () => {
    for (const base of bases) checkOutcome(base);
  });

  it(
    'an example broken in one to four places: a stable spec or a SpecError naming the fields',
    () => {
      fc.assert(
        fc.property(shown(fc.constantFrom(...bases).chain((b) => mutated(b))), (input) => checkOutcome(input.value)),
        { numRuns: 400, seed: fuzzSeed },
      );
    },
    fuzzTimeoutMs,
  );

  it(
    'an example with numbers and strings moved a little, onto the edges of their ranges: the same',
    () => {
      fc.assert(
        fc.property(shown(fc.constantFrom(...bases).chain(nudged)), (input) => checkOutcome(input.value)),
        { numRuns: 200, seed: fuzzSeed },
      );
    },
    fuzzTimeoutMs,
  );

  it(
    'random JSON, at the root and in each section: never anything but a SpecError',
    () => {
      const sections = ['data', 'training', 'monitoring', 'roles', 'deployment', 'gates', 'labels'];
      fc.assert(
        fc.property(shown(nastyJson), fc.constantFrom(null, ...sections), ({ value }, section) =>
          checkOutcome(section === null ? value : { ...local, [section]: value }),
        ),
        { numRuns: 300, seed: fuzzSeed },
      );
    },
    fuzzTimeoutMs,
  );
});

describe('counterexamples found by the properties', () => {
  const refusal = (input: unknown) => {
    try {
      parseSpec(input, 'spec.yaml');
    } catch (e) {
      return e as SpecError;
    }
    throw new Error('accepted');
  };

  it('a 100 kB unknown key is named, clipped, not echoed whole', () => {
    const err = refusal({ ...local, ['x'.repeat(100_000)]: null });
    expect(err).toBeInstanceOf(SpecError);
    expect(err.message.length).toBeLessThan(1_000);
    expect(err.message).toMatch(/^ {2}- \(root\): Unrecognized key: "x{100,}… \(\d+ more characters\)$/m);
    expect(err.issues[0]!.message.length).toBeLessThan(450);
  });

  it('thousands of bad labels: the first ten listed, the rest counted', () => {
    const err = refusal({ ...local, labels: Array.from({ length: 3_000 }, (_, i) => `bad label ${i}`) });
    expect(err.issues).toHaveLength(3_000);
    expect(err.message).toContain('  - labels.0: a label: letters, digits, "_" or "-"');
    expect(err.message).toContain('  - labels.9: ');
    expect(err.message).not.toContain('labels.10:');
    expect(err.message).toContain('  - and 2990 more\n');
    expect(err.message.length).toBeLessThan(2_000);
  });
});
