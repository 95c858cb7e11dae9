// Champion vs challenger: the version in production is scored on the challenger's test split,
// so the two are compared on the same rows (each generation's split differs, so their own
// audit numbers are not comparable). Anything that keeps the champion from being scored is
// reported on the page instead of failing the evaluation: the challenger's audit must not
// depend on an older version's files.
import { log } from '@temporalio/activity';
import type { ArtifactStore } from '../../adapters/artifacts/port';
import type { Registry } from '../../adapters/db/port';
import type { LoadScorer } from '../../adapters/scoring/port';
import { bootstrapDifference, bootstrapReport, classificationReport, type Interval } from '../../domain/metrics';
import { metricNames, type MetricName } from '../../domain/spec';
import { scoreAll } from '../scoring-helpers';
import type { ChampionComparison } from './model';

export interface ChampionInput {
  model: string;
  version: number;
  labels: string[];
  texts: string[];
  truth: string[];
  /** The challenger's predictions on the same rows. */
  predicted: string[];
}

const BOOTSTRAP = { iterations: 500, seed: 7 };

export async function compareWithChampion(
  deps: { store: ArtifactStore; registry: Registry; loadScorer: LoadScorer },
  input: ChampionInput,
  onProgress: (done: number) => void,
): Promise<ChampionComparison> {
  const { store, registry, loadScorer } = deps;
  const active = await registry.activeDeployment(input.model);
  if (!active) return { status: 'none', reason: `No version of ${input.model} is deployed: there is no champion to compare with yet.` };
  if (active.version === input.version) return { status: 'none', reason: `Version ${input.version} is itself the deployed version: it is its own champion.` };
  const champion = `the deployed version v${active.version}`;
  try {
    const record = await registry.getModelVersion(input.model, active.version);
    if (!record) return { status: 'unavailable', reason: `The registry has no record of ${champion}, so it could not be scored.` };
    const scorer = await loadScorer(await store.localFolder(store.keyOf(record.artifactUri)));
    let predicted: string[];
    try {
      const mismatch = scorer.labels.length !== input.labels.length || !input.labels.every((l) => scorer.labels.includes(l));
      if (mismatch) {
        return {
          status: 'unavailable',
          reason: `${champion} predicts the labels [${scorer.labels.join(', ')}] but this version predicts [${input.labels.join(', ')}]: the two cannot be scored on the same metrics.`,
        };
      }
      predicted = (await scoreAll(scorer, input.texts, onProgress)).map((p) => p.label);
    } finally {
      await scorer.close();
    }
    const report = classificationReport(input.labels, input.truth, predicted);
    const intervals = bootstrapReport(input.labels, input.truth, predicted, BOOTSTRAP).metrics;
    const differences = Object.fromEntries(
      metricNames.map((m) => [m, bootstrapDifference(input.labels, input.truth, predicted, input.predicted, m, BOOTSTRAP)]),
    ) as Record<MetricName, Interval>;
    const agreement = input.texts.length ? predicted.filter((p, i) => p === input.predicted[i]).length / input.texts.length : 0;
    return {
      status: 'compared',
      champion: {
        version: active.version,
        deployedAt: active.deployedAt,
        target: active.target,
        sha256: record.sha256,
        report,
        intervals,
        differences,
        agreement,
      },
    };
  } catch (err) {
    log.warn('could not score the champion for the audit package', { model: input.model, champion: active.version, error: (err as Error).message });
    return { status: 'unavailable', reason: `${champion} could not be scored: ${(err as Error).message}` };
  }
}
