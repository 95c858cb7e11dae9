// Hyperparameter search: a spec's search space becomes a fixed list of trials, one SLURM
// array task each. Deterministic (seeded), so a retried activity or a replay submits the
// same trials.
import { trainingParamOverridesSchema, type TrainingParams } from './spec';
import { seededRandom, shuffle } from './random';

export interface SearchSpec {
  trials: number;
  concurrency: number;
  space: Partial<Record<keyof TrainingParams, (number | string | boolean)[]>>;
}

/**
 * Every combination when there are at most `trials` of them; otherwise `trials` distinct
 * combinations drawn with the seed. Each trial is validated as training params.
 */
export function expandTrials(search: SearchSpec, seed: number): Partial<TrainingParams>[] {
  const names = Object.keys(search.space).sort() as (keyof TrainingParams)[];
  let combos: Record<string, unknown>[] = [{}];
  for (const name of names) {
    combos = combos.flatMap((c) => search.space[name]!.map((v) => ({ ...c, [name]: v })));
  }
  if (combos.length > search.trials) {
    combos = shuffle(combos, seededRandom(seed)).slice(0, search.trials);
  }
  return combos.map((c) => trainingParamOverridesSchema.parse(c));
}

/** The best trial by a validation metric (higher is better); ties go to the lower index. */
export function bestTrial(results: { trial: number; score: number | null }[]): number | null {
  let best: { trial: number; score: number } | null = null;
  for (const r of results) {
    if (r.score === null || !Number.isFinite(r.score)) continue;
    if (!best || r.score > best.score || (r.score === best.score && r.trial < best.trial)) best = { trial: r.trial, score: r.score };
  }
  return best?.trial ?? null;
}
