// The lint rule of workflows/: deterministic code only. Node builtins, adapters and
// activity implementations (other than as types) must not be imported here.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = path.dirname(new URL(import.meta.url).pathname);
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

describe('workflow code imports', () => {
  it.each(files)('%s imports only @temporalio/workflow, domain/ and types', (file) => {
    const source = fs.readFileSync(path.join(dir, file), 'utf8');
    const imports = [...source.matchAll(/^import\s+(type\s+)?[^'"]*from\s+'([^']+)'/gm)].map((m) => ({ typeOnly: Boolean(m[1]), from: m[2]! }));
    for (const { typeOnly, from } of imports) {
      const allowed = from === '@temporalio/workflow' || from.startsWith('./') || from.startsWith('../domain/') || typeOnly;
      expect(allowed, `${file} imports ${from}`).toBe(true);
      expect(from.startsWith('node:') || from.includes('/adapters/'), `${file} imports ${from}`).toBe(false);
    }
  });
});
