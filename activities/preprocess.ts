// requirements → preprocess: clean, deduplicate and split the spec's data (plus any
// feedback rows from earlier generations) into a content-addressed dataset folder.
import { log } from '@temporalio/activity';
import fs from 'node:fs/promises';
import path from 'node:path';
import { preprocessDataset } from '../adapters/datasets/preprocess';
import { DatasetError } from '../domain/dataset';
import type { ModelSpec } from '../domain/spec';
import type { ActivityDeps } from './deps';

export interface PreprocessInput {
  spec: ModelSpec;
  specDir: string;
  generation: number;
  extraDataKeys: string[];
}

export interface PreprocessResult {
  datasetHash: string;
  /** Artifact key of the folder with train/valid/test.jsonl, quarantine.jsonl, report.json. */
  datasetDir: string;
  report: Record<string, unknown>;
}

export function preprocessActivities({ store, registry }: ActivityDeps) {
  return {
    async preprocessData({ spec, specDir, generation, extraDataKeys }: PreprocessInput): Promise<PreprocessResult> {
      // Stage in a private folder, then move into place under the content hash: a crash
      // leaves at most a stray staging folder, never a half-written dataset version.
      const staging = store.localPath(`datasets/${spec.name}/.staging-g${generation}-${process.pid}-${Date.now()}`);
      const result = await preprocessDataset({ spec, specDir, outDir: staging, extraFiles: extraDataKeys.map((k) => store.localPath(k)) }).catch(async (err: unknown) => {
        // Data that cannot be trained on: point at the rows set aside, with their reasons.
        const quarantine = path.join(staging, 'quarantine.jsonl');
        if (err instanceof DatasetError && (await fs.access(quarantine).then(() => true, () => false))) err.message += `\nRows set aside, each with its reason: ${quarantine}`;
        throw err;
      });
      const datasetDir = `datasets/${spec.name}/${result.hash}`;
      const final = store.localPath(datasetDir);
      if (await store.exists(`${datasetDir}/manifest.json`)) {
        await fs.rm(staging, { recursive: true, force: true });
      } else {
        await fs.rm(final, { recursive: true, force: true });
        await fs.rename(staging, final);
        await store.writeManifest(datasetDir);
      }
      await registry.ensureModel(spec.name, spec as unknown as Record<string, unknown>);
      await registry.recordDatasetVersion({ model: spec.name, hash: result.hash, uri: `${store.rootUri}/${datasetDir}`, report: result.report as unknown as Record<string, unknown> });
      log.info('dataset ready', { datasetDir, hash: result.hash });
      return { datasetHash: result.hash, datasetDir, report: result.report as unknown as Record<string, unknown> };
    },
  };
}
