// The import rule of workflows/ lives in eslint.config.js (workflow code must be deterministic);
// this runs ESLint on fixture sources at workflow paths so the rule itself stays tested.
import path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '..');
// The rule needs no types: skip the type-aware parse, which cannot see a file that does not exist.
const eslint = new ESLint({ cwd: repoRoot, overrideConfig: tseslint.configs.disableTypeChecked });

async function importErrors(file: string, source: string) {
  const [result] = await eslint.lintText(source, { filePath: path.join(repoRoot, file) });
  return result!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

describe('the workflows/ import rule', () => {
  it.each([
    "import { readFileSync } from 'node:fs';",
    "import fs from 'fs';",
    "import { SbatchScript } from '../adapters/slurm/sbatch';",
    "import { trainingActivities } from '../activities/training';",
    "import { loadConfig } from '../config/load';",
    "import { loadConfig } from '../temporal.config';",
    "import { z } from 'zod';",
    "import { CliError } from '../cli/context';",
  ])('refuses %s and says why', async (line) => {
    const errors = await importErrors('workflows/fixture.ts', `${line}\n`);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/workflow code must be deterministic \(see DESIGN\.md "House style"\)/);
  });

  it('allows the sandbox API, domain/, its own modules and activity types', async () => {
    const source = [
      "import { proxyActivities } from '@temporalio/workflow';",
      "import type { ObservedJob } from '../activities/training';",
      "import type { z } from 'zod';",
      "import { runKeyFor } from '../domain/lifecycle';",
      "import { control } from './activities';",
      'export const x: [unknown, ObservedJob?, z.ZodType?] = [proxyActivities, runKeyFor, control];',
    ].join('\n');
    expect(await importErrors('workflows/fixture.ts', source)).toEqual([]);
  });

  it('applies to workflow code only, not its tests or other folders', async () => {
    const source = "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n";
    expect(await importErrors('workflows/fixture.test.ts', source)).toEqual([]);
    expect(await importErrors('domain/fixture.ts', source)).toEqual([]);
  });
});
