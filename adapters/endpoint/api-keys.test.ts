import { describe, expect, it } from 'vitest';
import { ApiKeys } from './api-keys';

describe('ApiKeys', () => {
  const first = 'a'.repeat(64);
  const second = 'b'.repeat(64);
  const keys = new ApiKeys([first, second]);

  it('names each accepted key by a short hash that is neither the key nor shared with another key', () => {
    const a = keys.identify(`Bearer ${first}`);
    const b = keys.identify(`bearer   ${second} `);
    expect(a).toMatch(/^key:[0-9a-f]{12}$/);
    expect(b).toMatch(/^key:[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain(first.slice(0, 12));
    expect(keys.identify(`Bearer ${first}`)).toBe(a);
  });

  it('accepts nothing else', () => {
    for (const header of [undefined, '', 'Bearer ', first, `Basic ${first}`, `Bearer ${first}x`, `Bearer ${first.slice(1)}`])
      expect(keys.identify(header)).toBeNull();
  });

  it('needs a non-empty key', () => {
    expect(() => new ApiKeys([])).toThrow(/at least one non-empty API key/);
    expect(() => new ApiKeys([first, ''])).toThrow(/at least one non-empty API key/);
  });
});
