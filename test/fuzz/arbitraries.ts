// Generators for the bad-input property tests (specs, datasets, signal payloads). What people
// really send is mostly right with a few things wrong, so besides random JSON there is a
// mutator that breaks a valid value in one to four places: a field dropped, a value of the
// wrong type or out of range, a huge or odd string, a prototype-polluting key, deep nesting.
// Runs use a fixed seed (FUZZ_SEED overrides it) so a CI failure reproduces from its log.
import fc from 'fast-check';

export const fuzzSeed = Number(process.env.FUZZ_SEED ?? 20240917);
/** Per property test: hundreds of cases take far longer than vitest's 5 s on a busy 2-core CI machine. */
export const fuzzTimeoutMs = 60_000;

/** Keys that reach Object.prototype when code assigns through them instead of defining them. */
export const pollutingKeys = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'] as const;

/** Strings that break naive code: control characters, lone surrogates, RTL, Thai, shell and YAML syntax. */
const oddStrings = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '\u202eevil',
  'ข้อความ\u200b',
  '\ufeff',
  '$(id)',
  '`rm -rf /`',
  "'; DROP TABLE runs; --",
  '- a\n- b',
  '{{x}}',
  '../../etc/passwd',
  'NaN',
  '1e400',
  '\r\n',
  ...pollutingKeys,
];

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.constantFrom(...oddStrings) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
);

export const nastyKey: fc.Arbitrary<string> = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...pollutingKeys) }, { weight: 1, arbitrary: nastyString });

export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 0.5, 1e-300, 1e300, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, 4.2, 1_000_000),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/**
 * Nested arrays or objects up to 1,000 levels deep, a stack-depth probe. Deeper values cannot
 * be sent: JSON.stringify and structuredClone overflow the stack near 2,000 levels, so
 * deeper nesting only arrives as text (see the spec-file bombs).
 */
export const deepNesting: fc.Arbitrary<unknown> = fc.tuple(fc.integer({ min: 100, max: 1_000 }), fc.boolean()).map(([depth, objects]) => {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = objects ? { a: v } : [v];
  return v;
});

/** A JSON value that may also hold own `__proto__`/`constructor` keys, as JSON.parse makes them. */
export const nastyJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    nastyNumber,
    nastyString,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.array(fc.tuple(nastyKey, tie('value')), { maxLength: 5 }).map(ownObject),
  ),
})).value;

/** A replacement value of any JSON kind, odd ones included. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: nastyJson },
  { weight: 1, arbitrary: deepNesting },
  { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 8 }), { minLength: 300, maxLength: 2_000 }) },
  { weight: 1, arbitrary: fc.array(fc.tuple(nastyKey, fc.constant(1)), { minLength: 50, maxLength: 500 }).map(ownObject) },
);

/** An object whose keys are own data properties, even "__proto__" (as JSON.parse and YAML make them). */
export function ownObject(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

type Path = (string | number)[];
const isContainer = (v: unknown): v is Record<string, unknown> | unknown[] => typeof v === 'object' && v !== null;

/** Paths into a JSON value, the root ([]) first; not below depth 12 (deep nesting is a value, not a place to break). */
function pathsOf(v: unknown, at: Path = []): Path[] {
  if (!isContainer(v) || at.length >= 12) return [at];
  const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return [at, ...keys.flatMap((k) => pathsOf((v as Record<string | number, unknown>)[k], [...at, k]))];
}

const mutationKinds = ['drop', 'replace', 'addKey', 'wrapInArray', 'stringify', 'emptyContainer', 'nudge'] as const;
export interface Mutation {
  kind: (typeof mutationKinds)[number];
  /** Which path, modulo the number of paths of the value at that moment. */
  pick: number;
  key: string;
  value: unknown;
}

export const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom(...mutationKinds),
  pick: fc.nat(),
  key: nastyKey,
  value: nastyValue,
});

function setAt(root: unknown, path: Path, change: (parent: Record<string | number, unknown>, key: string | number) => void): unknown {
  if (path.length === 0) {
    const box: Record<string, unknown> = { root };
    change(box, 'root');
    return box.root;
  }
  let parent = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  change(parent, path.at(-1)!);
  return root;
}

function movedNumber(n: number, pick: number): number {
  const moves = [n + 1, n - 1, n * 2, n / 2, -n, 0, Math.round(n), n + 0.5, n * 10, n / 10];
  return moves[pick % moves.length]!;
}

/** Applies mutations in order to a deep copy of `base`. */
export function applyMutations(base: unknown, mutations: readonly Mutation[]): unknown {
  let v: unknown = structuredClone(base);
  for (const m of mutations) {
    const paths = pathsOf(v);
    const path = paths[m.pick % paths.length]!;
    v = setAt(v, path, (parent, key) => {
      const current = parent[key];
      switch (m.kind) {
        case 'drop':
          if (Array.isArray(parent)) parent.splice(Number(key), 1);
          else delete parent[key];
          break;
        case 'replace':
          parent[key] = m.value;
          break;
        case 'addKey':
          if (isContainer(current) && !Array.isArray(current))
            Object.defineProperty(current, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
          else if (Array.isArray(current)) current.push(m.value);
          else parent[key] = m.value;
          break;
        case 'wrapInArray':
          parent[key] = [current];
          break;
        case 'stringify':
          parent[key] = current === undefined ? 'undefined' : JSON.stringify(current);
          break;
        case 'emptyContainer':
          parent[key] = Array.isArray(current) ? [] : isContainer(current) ? {} : '';
          break;
        case 'nudge':
          // Small moves keep many inputs valid and walk them onto the edges of each range.
          if (typeof current === 'number') parent[key] = movedNumber(current, m.pick);
          else if (typeof current === 'string') parent[key] = m.pick % 2 ? current.toUpperCase() : `${current}${m.key.slice(0, 3)}`;
          else if (typeof current === 'boolean') parent[key] = !current;
          break;
      }
    });
  }
  return v;
}

/** `base` broken in one to `max` places. */
export function mutated(base: unknown, max = 4): fc.Arbitrary<unknown> {
  return fc.array(mutation, { minLength: 1, maxLength: max }).map((ms) => applyMutations(base, ms));
}

/**
 * A generated value that fast-check prints shortened in a counterexample: a failing run on a
 * several-megabyte input must still leave a readable CI log. The seed replays the whole value.
 */
export interface Shown<T> {
  value: T;
}
export function shown<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<Shown<T>> {
  return arb.map((value) => ({ value, [fc.toStringMethod]: () => preview(value) }));
}

/** `base` with one to three numbers, strings or booleans moved a little: mostly valid, often on an edge. */
export function nudged(base: unknown): fc.Arbitrary<unknown> {
  const nudge = fc.record({ kind: fc.constant('nudge' as const), pick: fc.nat(), key: fc.constantFrom('', 'x', ' '), value: fc.constant(null) });
  return fc.array(nudge, { minLength: 1, maxLength: 3 }).map((ms) => applyMutations(base, ms));
}

/** A short description of a value for a failure message: never the whole of a huge input. */
export function preview(v: unknown, max = 300): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
}
