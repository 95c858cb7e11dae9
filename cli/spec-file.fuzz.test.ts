// Property tests for what `mlc validate` and `mlc start` read: spec files as people write them
// (the example broken in a few places, as YAML or JSON), text and bytes that are no spec at all,
// and YAML built to exhaust the parser. Each either gives a spec whose cluster this
// configuration knows, or a SpecError naming the file, with a message of readable length.
import fc from 'fast-check';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { fuzzSeed, fuzzTimeoutMs, mutated, nudged, preview, shown } from '../test/fuzz/arbitraries';
import { parseSpec, SpecError } from '../domain/spec';
import { loadConfig, repoRoot } from '../temporal.config';
import { placesUnknownTo, readSpecFile } from './spec-file';

let dir: string;
let example: Record<string, unknown>;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mlc-spec-fuzz-'));
  example = parseYaml(await readFile(path.join(repoRoot, 'examples/thai-sentiment.yaml'), 'utf8')) as Record<string, unknown>;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const yamlBombs = [
  // billion laughs: each alias doubles the size
  [
    'a: &a [x, x]',
    ...Array.from(
      { length: 30 },
      (_, i) =>
        `${String.fromCharCode(98 + (i % 24))}${i}: &${String.fromCharCode(98 + (i % 24))}${i} [*${i ? `${String.fromCharCode(98 + ((i - 1) % 24))}${i - 1}` : 'a'}, *${i ? `${String.fromCharCode(98 + ((i - 1) % 24))}${i - 1}` : 'a'}]`,
    ),
  ].join('\n'),
  '['.repeat(20_000),
  '{a: '.repeat(5_000),
  '- '.repeat(5_000) + 'x',
  'name: !!binary aGVsbG8=\nlabels: !!set {a, b}',
  '---\nname: a\n---\nname: b',
  'name: *undefined_alias',
  `name: "${'\\u0000'.repeat(10)}"`,
  'x'.repeat(2_000_000),
];

/** YAML text of a value; JSON (which YAML parsers read too) when the yaml writer runs out of stack on deep nesting. */
function yamlText(v: unknown): string {
  // A mutation can drop the root itself: undefined is written as an empty file, not crash writeFile.
  if (v === undefined) return '';
  try {
    return toYaml(v);
  } catch {
    return JSON.stringify(v);
  }
}

/** What a spec file may hold: [file extension, bytes]. */
const specFile: fc.Arbitrary<['.yaml' | '.json', Uint8Array | string]> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .constant(null)
      .chain(() => mutated(example))
      .map((v) => ['.yaml', yamlText(v)] as ['.yaml', string]),
  },
  {
    weight: 2,
    arbitrary: fc
      .constant(null)
      .chain(() => nudged(example))
      .map((v) => ['.yaml', yamlText(v)] as ['.yaml', string]),
  },
  {
    weight: 2,
    arbitrary: fc
      .constant(null)
      .chain(() => mutated(example))
      .map((v) => ['.json', v === undefined ? '' : JSON.stringify(v)] as ['.json', string]),
  },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('.yaml' as const, '.json' as const), fc.string({ unit: 'binary', maxLength: 300 })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('.yaml' as const, '.json' as const), fc.uint8Array({ maxLength: 2_000 })) },
  { weight: 1, arbitrary: fc.constantFrom(...yamlBombs).map((y) => ['.yaml', y] as ['.yaml', string]) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 100_000 }).map((n) => ['.json', `${'['.repeat(n)}${']'.repeat(n)}`] as ['.json', string]) },
);

describe('readSpecFile on bad files (property)', () => {
  const config = loadConfig();

  it('reads the example', async () => {
    const file = path.join(dir, 'example.yaml');
    await writeFile(file, toYaml(example));
    expect((await readSpecFile(file)).spec).toEqual(parseSpec(example));
  });

  it(
    'a spec whose cluster is configured, or a SpecError naming the file',
    async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(shown(specFile), async ({ value: [ext, bytes] }) => {
          const file = path.join(dir, `spec-${n++}${ext}`);
          await writeFile(file, bytes);
          const outcome = await readSpecFile(file).then(
            (r) => r,
            (e: unknown) => e,
          );
          if (outcome instanceof SpecError) {
            expect(outcome.source).toBe(file);
            expect(outcome.message).toContain(file);
            expect(outcome.message.length).toBeLessThanOrEqual(8_000);
            expect(outcome.issues.length).toBeGreaterThan(0);
          } else if (outcome instanceof Error) {
            throw new Error(`readSpecFile threw ${outcome.name}, not a SpecError, on ${preview(bytes)}: ${outcome.message}`, { cause: outcome });
          } else {
            const { spec, specDir } = outcome as Awaited<ReturnType<typeof readSpecFile>>;
            expect(specDir).toBe(dir);
            expect(Object.keys(config.clusters)).toContain(spec.training.cluster);
          }
        }),
        { numRuns: 200, seed: fuzzSeed },
      );
    },
    fuzzTimeoutMs,
  );

  it('a missing file, or a folder, is a SpecError saying to check the path', async () => {
    for (const file of [path.join(dir, 'nope.yaml'), dir]) {
      const err = await readSpecFile(file).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SpecError);
      expect((err as Error).message).toMatch(/cannot read the file \(E[A-Z]+\); check the path/);
    }
  });
});

describe('placesUnknownTo (property)', () => {
  const config = loadConfig();
  const clusters = Object.keys(config.clusters);
  const name = fc.oneof(fc.constantFrom(...clusters), fc.stringMatching(/^[a-z0-9-]{1,32}$/));

  it(
    'names training.cluster exactly when the configuration lacks it, and lists the configured ones',
    () => {
      fc.assert(
        fc.property(name, (cluster) => {
          const spec = parseSpec({ ...example, training: { ...(example.training as object), cluster } });
          const issues = placesUnknownTo(spec, config);
          if (clusters.includes(cluster)) expect(issues).toEqual([]);
          else {
            expect(issues).toHaveLength(1);
            expect(issues[0]!.path).toBe('training.cluster');
            expect(issues[0]!.message).toContain(`"${cluster}" is not a configured cluster (configured: ${clusters.join(', ')})`);
          }
        }),
        { numRuns: 200, seed: fuzzSeed },
      );
    },
    fuzzTimeoutMs,
  );

  it(
    'names deployment.workspace when the configuration lacks it',
    () => {
      const workspaces = Object.keys(config.workspaces);
      fc.assert(
        fc.property(fc.oneof(fc.constantFrom(...workspaces, 'emulated'), fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,31}$/)), (workspace) => {
          const spec = parseSpec({ ...example, deployment: { target: 'azureml', workspace, endpoint: 'thai-sentiment' } });
          const issues = placesUnknownTo(spec, config).filter((i) => i.path === 'deployment.workspace');
          expect(issues.length).toBe(workspaces.includes(workspace) ? 0 : 1);
          if (issues.length) expect(issues[0]!.message).toMatch(/add it under "workspaces:" in the MLC_CONFIG file/);
        }),
        { numRuns: 200, seed: fuzzSeed },
      );
    },
    fuzzTimeoutMs,
  );
});
