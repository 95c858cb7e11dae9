// Read a model spec from YAML or JSON; every problem names the file and the field.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseSpec, SpecError, type ModelSpec } from '../domain/spec';
import { loadConfig, type MlcConfig } from '../temporal.config';

export async function readSpecFile(file: string): Promise<{ spec: ModelSpec; specDir: string }> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await fs.readFile(abs, 'utf8');
  } catch (err) {
    throw new SpecError(abs, [
      { path: '', message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the path` },
    ]);
  }
  let raw: unknown;
  try {
    raw = abs.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new SpecError(abs, [{ path: '', message: `not valid ${abs.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}` }]);
  }
  const spec = parseSpec(raw, abs);
  const unknown = placesUnknownTo(spec, loadConfig());
  if (unknown.length) throw new SpecError(abs, unknown);
  return { spec, specDir: path.dirname(abs) };
}

/** A spec names clusters and workspaces by name; they must exist in this configuration. */
export function placesUnknownTo(spec: ModelSpec, config: MlcConfig): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  const clusters = Object.keys(config.clusters);
  if (!clusters.includes(spec.training.cluster)) {
    issues.push({
      path: 'training.cluster',
      message: `"${spec.training.cluster}" is not a configured cluster (configured: ${clusters.join(', ')}); add it to the MLC_CONFIG file or pick one of those`,
    });
  }
  if (spec.deployment.target === 'azureml') {
    const workspaces = Object.keys(config.workspaces);
    if (!workspaces.includes(spec.deployment.workspace)) {
      issues.push({
        path: 'deployment.workspace',
        message: `"${spec.deployment.workspace}" is not a configured Azure ML workspace (configured: ${workspaces.join(', ') || 'none'}); add it under "workspaces:" in the MLC_CONFIG file`,
      });
    }
  }
  return issues;
}
