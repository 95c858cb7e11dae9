// The application's configuration entry point (the name is historical: it configures the
// whole product, Temporal included). Schemas live in config/schema.ts, layering and sources
// in config/load.ts; this file pins the repository root and re-exports what callers use.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigWithSources, type LoadedConfig } from './config/load';
import type { MlcConfig } from './config/schema';

export const repoRoot = path.dirname(fileURLToPath(import.meta.url));

export { searchAttributes, taskQueues } from './domain/temporal-names';
export { ConfigError } from './config/load';
export type { ClusterConfig, LocalClusterConfig, MlcConfig, SlurmClusterConfig, WorkspaceConfig } from './config/schema';

/** The validated configuration: defaults, then the MLC_CONFIG file, then the environment. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): MlcConfig {
  return loadConfigWithSources(repoRoot, env).config;
}

export function loadConfigAndSources(env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  return loadConfigWithSources(repoRoot, env);
}
