// mlc alias on a real (in-memory) registry: a move is atomic and recorded with who and why;
// champion is refused before anything is written, since only a deployment moves it.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openMemoryRegistry } from '../adapters/db/memory';
import type { Registry } from '../adapters/db/port';
import { aliasListCommand, aliasSetCommand, parseVersion, resolveVersion } from './aliases';
import { CliError } from './cli-error';

async function printed(fn: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return lines.join('\n');
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as CliError,
  );

describe('mlc alias', () => {
  let registry: Registry;
  beforeAll(async () => {
    registry = await openMemoryRegistry();
    for (const key of ['r1', 'r2']) await registry.registerModelVersion({ model: 'm', runKey: key, artifactUri: `file:///${key}`, sha256: key, metrics: {} });
  }, 120_000); // PGlite starts and migrates in seconds, far slower on a busy machine
  afterAll(() => registry.close());

  it('sets an alias, says what it replaced, and lists it with its history', async () => {
    const opts = { as: 'carol', reason: 'best on our golden set' };
    expect(await printed(() => aliasSetCommand(registry, 'm', 'golden', '1', opts))).toBe('✓ m@golden → v1 (new alias), recorded as set by carol');
    expect(await printed(() => aliasSetCommand(registry, 'm', 'golden', '2', opts, 'retry-me'))).toContain('(was v1)');
    expect(await printed(() => aliasSetCommand(registry, 'm', 'golden', '2', opts, 'retry-me'))).toBe('m@golden: this change was already recorded');
    const list = await printed(() => aliasListCommand(registry, 'm', { history: true }));
    expect(list).toMatch(/^alias\s+version\s+set\s+by\s+reason\ngolden\s+v2\s+\S+ \S+\s+carol\s+best on our golden set/);
    expect(list).toMatch(/history\n.*\n.*golden\s+— → v1\s+carol[^\n]*\n.*golden\s+v1 → v2\s+carol/);
    const json = JSON.parse(await printed(() => aliasListCommand(registry, 'm', { json: true }))) as { alias: string; version: number }[];
    expect(json).toMatchObject([{ alias: 'golden', version: 2, setBy: 'carol' }]);
  });

  it('refuses champion, bad names, bad users and bad versions before writing anything', async () => {
    const before = await registry.aliasHistory('m');
    for (const [alias, version, as, why] of [
      ['champion', '1', 'carol', /only a deployment moves it: use mlc deploy, or mlc rollback/],
      ['Golden Set', '1', 'carol', /not a usable alias name/],
      ['staging', 'v1', 'carol', /not a version number/],
      ['staging', '1', 'carol; rm -rf /', /--as/],
    ] as const) {
      const error = await refusal(aliasSetCommand(registry, 'm', alias, version, { as, reason: 'r' }));
      expect(error).toBeInstanceOf(CliError);
      expect(error?.exitCode).toBe(2);
      expect(error?.message).toMatch(why);
    }
    expect(await registry.aliasHistory('m')).toEqual(before);
    // A version the model lacks is the registry's refusal, with the way to find the right one.
    await expect(aliasSetCommand(registry, 'm', 'staging', '9', { as: 'carol', reason: 'r' })).rejects.toThrow(/no version 9.*mlc runs m/);
  });

  it('resolves a version by number or alias, naming the aliases there are', async () => {
    expect(await resolveVersion(registry, 'm', '2')).toBe(2);
    expect(await resolveVersion(registry, 'm', 'golden')).toBe(2);
    expect((await refusal(resolveVersion(registry, 'm', 'staging')))?.message).toMatch(/no alias "staging"; its aliases: golden \(v2\)/);
    expect(() => parseVersion('0')).toThrow(CliError);
  });
});
