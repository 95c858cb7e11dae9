// Read a model spec from YAML or JSON; every problem names the file and the field.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseSpec, SpecError, type ModelSpec } from '../domain/spec';

export async function readSpecFile(file: string): Promise<{ spec: ModelSpec; specDir: string }> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await fs.readFile(abs, 'utf8');
  } catch (err) {
    throw new SpecError(abs, [{ path: '', message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the path` }]);
  }
  let raw: unknown;
  try {
    raw = abs.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new SpecError(abs, [{ path: '', message: `not valid ${abs.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}` }]);
  }
  return { spec: parseSpec(raw, abs), specDir: path.dirname(abs) };
}
