// requirements → preprocess: clean, deduplicate and split the spec's data (plus any
// feedback rows from earlier generations) into a content-addressed dataset folder.
import { log } from '@temporalio/activity';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dataAccessFrom } from '../adapters/datasets/data-roots';
import { checkDataset, preprocessDataset, summarizeDatasetCheck, type DatasetCheckSummary } from '../adapters/datasets/preprocess';
import { DatasetNotFoundError } from '../adapters/datasets/read';
import { artifactLayout } from '../domain/artifact-layout';
import { DatasetError } from '../domain/dataset';
import type { ModelSpec } from '../domain/spec';
import type { ActivityDeps } from './deps';
import { userError } from './errors';

export interface PreprocessDataInput {
  spec: ModelSpec;
  specDir: string;
  generation: number;
  extraDataKeys: string[];
}

export interface PreparedDataset {
  datasetHash: string;
  /** Artifact key of the folder with train/valid/test.jsonl, quarantine.jsonl, report.json. */
  datasetDir: string;
  report: Record<string, unknown>;
}

export interface CheckSpecDataInput {
  spec: ModelSpec;
  specDir: string;
}

export function preprocessActivities({ config, store, registry }: ActivityDeps) {
  return {
    /**
     * `mlc validate --on-worker`: the spec's data checked where the worker reads it (its data
     * roots, its mounts), as preprocess will; nothing is written.
     */
    async checkSpecData({ spec, specDir }: CheckSpecDataInput): Promise<DatasetCheckSummary> {
      try {
        return summarizeDatasetCheck(await checkDataset({ spec, specDir, dataAccess: dataAccessFrom(config) }));
      } catch (e) {
        if (e instanceof DatasetNotFoundError) {
          throw userError(
            'DatasetNotFound',
            `data.path ${spec.data.path}: no such file on the worker's machine (${e.path}; a relative path is resolved against the spec's folder, ${specDir})`,
          );
        }
        throw e;
      }
    },

    async preprocessData({ spec, specDir, generation, extraDataKeys }: PreprocessDataInput): Promise<PreparedDataset> {
      // Build in a private local folder, then publish it through the store (files first, the
      // manifest last): a crash leaves no dataset version that looks complete.
      const staging = await fs.mkdtemp(path.join(os.tmpdir(), `mlc-preprocess-${spec.name}-`));
      try {
        const extraFiles: { path: string; name: string }[] = [];
        for (const [i, key] of extraDataKeys.entries()) {
          const file = path.join(staging, `extra-${i}${path.extname(key)}`);
          await fs.writeFile(file, await store.get(key));
          extraFiles.push({ path: file, name: key });
        }
        const outDir = path.join(staging, 'out');
        const result = await preprocessDataset({ spec, specDir, outDir, extraFiles, dataAccess: dataAccessFrom(config) }).catch(async (err: unknown) => {
          // Data that cannot be trained on: keep the rows set aside, with their reasons, where people can read them.
          const quarantine = path.join(outDir, 'quarantine.jsonl');
          if (
            err instanceof DatasetError &&
            (await fs.access(quarantine).then(
              () => true,
              () => false,
            ))
          ) {
            const key = `${artifactLayout.rejectedRows(spec.name, generation, path.basename(staging))}/quarantine.jsonl`;
            await store.put(key, await fs.readFile(quarantine));
            err.message += `\nRows set aside, each with its reason: ${store.uriOf(key)}`;
          }
          throw err;
        });
        const datasetDir = artifactLayout.dataset(spec.name, result.hash);
        if (!(await store.exists(`${datasetDir}/manifest.json`))) await store.putFolder(outDir, datasetDir);
        await registry.ensureModel(spec.name, spec);
        await registry.recordDatasetVersion({
          model: spec.name,
          hash: result.hash,
          uri: store.uriOf(datasetDir),
          report: result.report as unknown as Record<string, unknown>,
        });
        log.info('dataset ready', { datasetDir, hash: result.hash });
        return { datasetHash: result.hash, datasetDir, report: result.report as unknown as Record<string, unknown> };
      } finally {
        await fs.rm(staging, { recursive: true, force: true });
      }
    },
  };
}
