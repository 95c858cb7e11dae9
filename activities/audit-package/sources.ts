// What the audit package reads besides the scores: the training job's metrics.json and
// config.json (curves, parameters, lineage), the dataset's report.json, and the registry's run.
// Each source may be missing or older than this code (a field written by a later train.py),
// so every read is tolerant and an absent field becomes null — "not recorded" on the page —
// rather than a failed evaluation.
import type { ArtifactStore } from '../../adapters/artifacts/port';
import type { Registry } from '../../adapters/db/port';
import type { DataReport } from '../../domain/dataset';
import type { Lineage, TrainingCurves } from './model';

type Json = Record<string, unknown>;

async function readJson(store: ArtifactStore, key: string): Promise<Json | null> {
  if (!(await store.exists(key))) return null;
  try {
    const value: unknown = JSON.parse((await store.get(key)).toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
  } catch {
    return null; // a half-written or foreign file: the page says "not recorded"
  }
}

const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null);
const str = (...vs: unknown[]): string | null => {
  for (const v of vs) if ((typeof v === 'string' && v !== '') || typeof v === 'number') return String(v);
  return null;
};
const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Rows of numbers only: what the charts can draw. */
function numericRows(v: unknown): Record<string, number>[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((row) => {
    const o = obj(row);
    if (!o) return [];
    return [Object.fromEntries(Object.entries(o).filter(([, x]) => finite(x) !== null)) as Record<string, number>];
  });
}

function stringValues(v: unknown): Record<string, string> {
  const o = obj(v);
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).flatMap(([k, x]) => (str(x) === null ? [] : [[k, str(x)!]])));
}

/** A trial's folder (runs/<key>/trial-3) keeps config.json one level up, in the search's run folder. */
function configKeys(runDir: string): string[] {
  const parent = /^(.*)\/trial-\d+$/.exec(runDir)?.[1];
  return [`${runDir}/config.json`, ...(parent ? [`${parent}/config.json`] : [])];
}

export interface RunSources {
  curves: TrainingCurves;
  lineage: Omit<Lineage, 'evaluationVersions'>;
  data: DataReport | null;
}

export async function readRunSources(
  deps: { store: ArtifactStore; registry: Registry },
  input: { runKey: string; runDir: string; datasetDir: string },
): Promise<RunSources> {
  const { store, registry } = deps;
  const metrics = (await readJson(store, `${input.runDir}/metrics.json`)) ?? {};
  let config: Json = {};
  for (const key of configKeys(input.runDir)) {
    const found = await readJson(store, key);
    if (found) {
      config = found;
      break;
    }
  }
  const run = await registry.getRun(input.runKey);
  const best = obj(metrics.best);
  const slurm = obj(metrics.slurm) ?? {};
  const code = obj(metrics.code) ?? obj(config.code) ?? {};
  const curves: TrainingCurves = {
    epochs: numericRows(metrics.history),
    steps: numericRows(metrics.steps),
    best: best ? { epoch: finite(best.epoch), val_macro_f1: finite(best.val_macro_f1) } : null,
    stoppedEarly: typeof metrics.stopped_early === 'boolean' ? metrics.stopped_early : null,
  };
  const params = obj(metrics.params) ?? obj(config.params) ?? (run && Object.keys(run.params).length ? run.params : null);
  const warm = obj(metrics.warm_start);
  const warmFrom = str(warm?.from);
  const lineage: RunSources['lineage'] = {
    datasetHash: str(config.datasetHash, run?.datasetHash, input.datasetDir.split('/').pop()),
    // Names a later train.py or worker may use; the first one present wins.
    gitCommit: str(metrics.gitCommit, metrics.git_commit, code.gitCommit, code.commit, config.gitCommit, config.git_commit),
    params,
    warmStart: warmFrom ? { run: warmFrom.split('/').pop()!, modelSha256: str(warm?.model_sha256) } : null,
    pretrainedDir: str(config.pretrainedDir),
    cluster: str(run?.cluster),
    slurmJobId: str(run?.slurmJobId, slurm.jobId, slurm.job_id, metrics.slurm_job_id),
    node: str(metrics.node, metrics.hostname, slurm.node, slurm.nodelist),
    trainSeconds: finite(metrics.train_seconds),
    device: str(metrics.device),
    precision: str(metrics.precision),
    trainingVersions: stringValues(metrics.versions ?? metrics.environment),
  };
  return { curves, lineage, data: dataReport(await readJson(store, `${input.datasetDir}/report.json`)) };
}

/** report.json as preprocess writes it, with defaults for fields an older preprocess left out. */
function dataReport(report: Json | null): DataReport | null {
  const perLabel = obj(report?.perLabel);
  if (!report || !perLabel) return null;
  const counts = (v: unknown) => Object.fromEntries(Object.entries(obj(v) ?? {}).filter(([, n]) => finite(n) !== null)) as Record<string, number>;
  return {
    input: finite(report.input) ?? 0,
    kept: finite(report.kept) ?? 0,
    perLabel: { train: counts(perLabel.train), valid: counts(perLabel.valid), test: counts(perLabel.test) },
    quarantinedByReason: counts(report.quarantinedByReason),
    duplicatesRemoved: finite(report.duplicatesRemoved) ?? 0,
    unknownLabels: counts(report.unknownLabels),
    imbalance: finite(report.imbalance),
    warnings: Array.isArray(report.warnings) ? report.warnings.filter((w): w is string => typeof w === 'string') : [],
  };
}
