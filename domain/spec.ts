// The model spec: the business requirements turned into something a workflow can run.
// Everything here reaches either a SLURM script or a shell on the cluster, so string fields
// that end up there are held to narrow character sets, and the renderer quotes them anyway.
import { z } from 'zod';
import { servingPrecisions } from './artifact-layout';
import { clipText } from './clip-text';

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use lower-case letters, digits and dashes (max 63), e.g. "thai-sentiment"');
/** Who a role names and who a decision is recorded under: one pattern for specs and messages. */
export const userNameSchema = z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'a user name: letters, digits, ".", "_", "@" or "-"');
/** Durations such as "90s", "5m", "1h", "2d". */
export const durationSchema = z
  .string()
  .regex(/^\d+(s|m|h|d)$/, { error: 'a duration like "30s", "5m", "1h" or "1d"', abort: true }) // not also "longer than zero"
  .refine((d) => Number(d.slice(0, -1)) > 0, 'a duration longer than zero, like "30s" or "1h"');

export function durationMs(d: string): number {
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[d.slice(-1) as 's' | 'm' | 'h' | 'd'];
  return Number(d.slice(0, -1)) * unit;
}

export const metricNames = ['accuracy', 'macro_f1', 'macro_precision', 'macro_recall'] as const;
export type MetricName = (typeof metricNames)[number];

/**
 * Hyperparameters passed verbatim (as JSON) to slurm/train.py. slurm/mlc_train/config.py keeps
 * its own copy for the job side; slurm/tests/test_params_contract.py holds names, defaults and
 * ranges of the two to each other.
 */
export const trainingParamsSchema = z.strictObject({
  epochs: z.number().int().min(1).max(1000).default(3),
  batchSize: z.number().int().min(1).max(4096).default(32),
  learningRate: z.number().positive().max(1).default(5e-4),
  maxLength: z.number().int().min(8).max(512).default(64),
  warmupRatio: z.number().min(0).max(0.5).default(0.1),
  weightDecay: z.number().min(0).max(1).default(0.01),
  gradClip: z.number().positive().default(1.0),
  patience: z.number().int().min(1).default(2),
  seed: z.number().int().min(0).default(13),
  hiddenSize: z.number().int().min(8).default(64),
  numLayers: z.number().int().min(1).max(48).default(2),
  numHeads: z.number().int().min(1).max(64).default(2),
  intermediateSize: z.number().int().min(8).default(128),
  vocabSize: z.number().int().min(300).max(250_000).default(3000),
  lstmHidden: z.number().int().min(4).default(64),
  dropout: z.number().min(0).max(0.9).default(0.1),
  classWeights: z.boolean().default(true),
  /** Weights are inverse class frequency to this power: 1 full, 0.5 its square root (gentler on the common classes). */
  classWeightPower: z.number().min(0).max(1).default(1),
  precision: z.enum(['auto', 'fp32', 'bf16', 'fp16']).default('auto'),
  numWorkers: z.number().int().min(0).max(64).default(1),
  checkpointEverySteps: z.number().int().min(1).default(200),
  // The recipe's levers (bench/recipe.md); each default leaves training as it was before it existed.
  /** BPE pre-tokenization: `gpt2` splits Thai at every vowel and tone mark; `letters-with-marks` keeps them with their letters. */
  preTokenizer: z.enum(['gpt2', 'letters-with-marks']).default('gpt2'),
  labelSmoothing: z.number().min(0).max(0.5).default(0),
  /** Exponential moving average of the weights (evaluated, kept and exported instead of the raw ones); 0 is off. */
  emaDecay: z.number().min(0).max(0.9999).default(0),
  /** Augmentation of the training split, seeded: the chance each token is dropped, or swapped with its neighbour, per epoch. */
  tokenDropout: z.number().min(0).max(0.5).default(0),
  tokenSwap: z.number().min(0).max(0.5).default(0),
  /** Extra augmented copies of every training row of a rare class (under 5% of the rows, e.g. `q`). */
  rareClassCopies: z.number().int().min(0).max(20).default(0),
  /** Also validate the mean of the last N epochs' weights, kept when it beats the best epoch; 1 is off. */
  averageEpochs: z.number().int().min(1).max(20).default(1),
  /** Epochs of masked-language-model pretraining of the encoder on the training texts before fine-tuning; 0 is off. */
  mlmEpochs: z.number().int().min(0).max(100).default(0),
  /** The share of tokens masked in that pretraining (RoBERTa's 0.15). */
  mlmProbability: z.number().min(0.01).max(0.5).default(0.15),
  /** Its own batch size and peak learning rate: predicting tokens learns slowly at fine-tuning's. */
  mlmBatchSize: z.number().int().min(1).max(4096).default(64),
  mlmLearningRate: z.number().positive().max(1).default(0.002),
  /** Knowledge distillation: the share of each training target that is a TF-IDF teacher's out-of-fold probabilities; 0 is off. */
  distillWeight: z.number().min(0).max(0.9).default(0),
});
export type TrainingParams = z.infer<typeof trainingParamsSchema>;

/**
 * Changes to some parameters (a reject's "improve", a search trial). Not
 * `trainingParamsSchema.partial()`: that would still fill in every default and so overwrite
 * the spec's own values.
 */
export const trainingParamOverridesSchema = z.strictObject(
  Object.fromEntries(Object.entries(trainingParamsSchema.shape).map(([k, v]) => [k, v.unwrap().optional()])),
) as unknown as z.ZodType<Partial<TrainingParams>>;

/** Params that shape the model (and its tokenizer): a warm start must keep them (slurm/mlc_train/warm_start.py, ARCHITECTURE). */
export const warmStartFixed = ['hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'lstmHidden', 'maxLength', 'vocabSize', 'preTokenizer'] as const;

const sbatchValue = z.string().regex(/^[A-Za-z0-9._:,=+/-]{1,128}$/, 'letters, digits and . _ : , = + / - only');
/** Where and how the job runs on SLURM. An MI-100 example is in README ("Cluster profiles"). */
export const clusterProfileSchema = z.strictObject({
  partition: sbatchValue.optional(),
  account: sbatchValue.optional(),
  qos: sbatchValue.optional(),
  /** e.g. "gpu:mi100:1" */
  gres: sbatchValue.optional(),
  cpusPerTask: z.number().int().min(1).max(256).default(1),
  /** e.g. "4G", "500M" */
  memory: z
    .string()
    .regex(/^\d+[KMGT]?$/, 'a SLURM memory size like "500M" or "16G"')
    .default('2G'),
  /** SLURM time limit, e.g. "00:30:00" or "2-00:00:00" */
  timeLimit: z
    .string()
    .regex(/^(\d+-)?\d{1,2}:\d{2}:\d{2}$/, 'a SLURM time like "01:00:00" or "2-00:00:00"')
    .default('01:00:00'),
  /** Environment modules to load, e.g. ["rocm/5.7.1"] */
  modules: z.array(z.string().regex(/^[A-Za-z0-9._/+-]{1,128}$/, 'a module name like "rocm/5.7.1"')).default([]),
  /** Seconds before the time limit at which SLURM sends SIGUSR1 so the job checkpoints. */
  checkpointSignalSeconds: z.number().int().min(10).max(3600).default(120),
  /** Extra "#SBATCH" options, e.g. ["--exclusive", "--constraint=mi100"]. */
  extraSbatch: z.array(z.string().regex(/^--[a-z][a-z-]*(=[A-Za-z0-9._:,=+/-]+)?$/, 'an sbatch option like "--exclusive" or "--constraint=mi100"')).default([]),
});
export type ClusterProfile = z.infer<typeof clusterProfileSchema>;

const azureName = z.string().regex(/^[a-z][a-z0-9-]{1,30}[a-z0-9]$/, 'an Azure ML name: 3-32 lower-case letters, digits and dashes, starting with a letter');
/**
 * Where an approved version goes. `local`: the built-in endpoint (the embedded default).
 * `azureml`: a managed online endpoint in a workspace named in the configuration; each
 * version becomes deployment "v<N>", smoke-tested at 0% traffic, then given traffic step by
 * step (`rollout`, percent), restoring the previous traffic when a step fails.
 */
export const deploymentSchema = z.discriminatedUnion('target', [
  z.strictObject({ target: z.literal('local') }),
  z.strictObject({
    target: z.literal('azureml'),
    /** A workspace name from the configuration (`workspaces:` in the MLC_CONFIG file). */
    workspace: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'a workspace name from the configuration'),
    endpoint: azureName,
    instanceType: z
      .string()
      .regex(/^[A-Za-z0-9_]{2,64}$/, 'an Azure VM size such as "Standard_DS3_v2"')
      .default('Standard_DS3_v2'),
    instanceCount: z.number().int().min(1).max(100).default(1),
    /** Traffic percentages for the new version, in order; the last must be 100. */
    rollout: z
      .array(z.number().int().min(1).max(100))
      .min(1)
      .default([10, 50, 100])
      .refine((r) => r.at(-1) === 100, 'the last rollout step must be 100 (the new version takes all traffic)')
      .refine((r) => r.every((p, i) => i === 0 || p > r[i - 1]!), 'rollout steps must increase, e.g. [10, 50, 100]'),
    /** A rollout step fails when more than this share of its smoke requests fail... */
    maxErrorRate: z.number().min(0).max(1).default(0),
    /** ...or when their p95 latency exceeds this. */
    maxLatencyMs: z.number().int().positive().default(2000),
    /** Deployments kept on the endpoint (newest first, the live ones always); older ones are deleted. */
    keep: z.number().int().min(1).max(20).default(3),
  }),
]);
export type DeploymentSpec = z.infer<typeof deploymentSchema>;
export type AzureDeploymentSpec = Extract<DeploymentSpec, { target: 'azureml' }>;

/** How the registry names where a deployment runs: `local`, or `azureml:<workspace>/<endpoint>`. */
export function deploymentTarget(d: DeploymentSpec): string {
  return d.target === 'local' ? 'local' : `azureml:${d.workspace}/${d.endpoint}`;
}

export const modelSpecSchema = z.strictObject({
  name: slug,
  description: z.string().max(2000).default(''),
  labels: z
    .array(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'a label: letters, digits, "_" or "-"'))
    .min(2)
    .superRefine((l, ctx) => {
      const repeated = [...new Set(l.filter((label, i) => l.indexOf(label) !== i))];
      if (repeated.length) ctx.addIssue({ code: 'custom', message: `labels must be unique: ${repeated.map((r) => `"${r}"`).join(', ')} given more than once` });
    }),
  data: z.strictObject({
    /** JSONL or CSV; relative paths are resolved against the spec file's folder. */
    path: z.string().min(1),
    format: z.enum(['jsonl', 'csv']).optional(),
    textField: z.string().min(1).default('text'),
    labelField: z.string().min(1).default('label'),
    validFraction: z.number().gt(0).lt(0.5).default(0.1),
    testFraction: z.number().gt(0).lt(0.5).default(0.1),
    seed: z.number().int().min(0).default(42),
  }),
  /** A version is only offered to the auditor when every gate passes. */
  gates: z.array(z.strictObject({ metric: z.enum(metricNames), min: z.number().min(0).max(1) })).default([]),
  training: z
    .strictObject({
      cluster: z
        .string()
        .regex(/^[a-z0-9-]{1,32}$/)
        .default('local'),
      profile: clusterProfileSchema.prefault({}),
      /** A local folder with a pretrained RoBERTa (config.json, weights, tokenizer.json); never a hub id. */
      pretrainedDir: z.string().optional(),
      // The encoder splits hiddenSize across its attention heads: train.py cannot build it otherwise.
      params: trainingParamsSchema.prefault({}).refine((p) => p.hiddenSize % p.numHeads === 0, {
        message: 'hiddenSize must be divisible by numHeads (each attention head gets hiddenSize / numHeads dimensions), e.g. 64 with 2 heads',
        path: ['hiddenSize'],
      }),
      /**
       * Hyperparameter search: `trials` combinations of `space` run as one SLURM job array, at
       * most `concurrency` at a time; the best by validation macro-F1 goes on to evaluation.
       */
      search: z
        .strictObject({
          trials: z.number().int().min(2).max(200),
          concurrency: z.number().int().min(1).max(200).default(2),
          space: z
            .partialRecord(
              z.enum(Object.keys(trainingParamsSchema.shape) as [keyof TrainingParams, ...(keyof TrainingParams)[]]),
              z.array(z.union([z.number(), z.string(), z.boolean()])).min(1),
            )
            .refine((s) => Object.keys(s).length > 0, 'name at least one parameter to search over'),
        })
        .optional(),
      /**
       * How a retrain (generation 2 on) trains: from scratch (the default), or from the deployed
       * version's weights and tokenizer (`champion`: a warm start, a fraction of the time, for new
       * rows on the same task); `params` change the spec's for retrains (fewer epochs, a lower
       * learning rate). A warm start keeps the architecture, so `params` may not change it.
       */
      retrain: z
        .strictObject({
          from: z.enum(['scratch', 'champion']).default('scratch'),
          params: trainingParamOverridesSchema.optional(),
        })
        .refine((r) => r.from !== 'champion' || !warmStartFixed.some((k) => r.params?.[k] !== undefined), {
          message: `a warm start (from: champion) keeps the deployed version's architecture: retrain.params may not set ${warmStartFixed.join(', ')}; retrain from scratch to change it`,
          path: ['params'],
        })
        .optional(),
      /** How often a failed job may be retried when the cluster is at fault (NODE_FAIL, PREEMPTED...). */
      maxInfraRetries: z.number().int().min(0).max(10).default(2),
    })
    .prefault({}),
  monitoring: z
    .strictObject({
      every: durationSchema.default('1h'),
      /** Predicted-label PSI at or above this means drift (Evidently: 0.1 moderate, 0.25 major). */
      psiThreshold: z.number().positive().default(0.25),
      /** Accuracy on feedback below this means degradation. */
      minFeedbackAccuracy: z.number().min(0).max(1).default(0.7),
      /** Ignore accuracy until this many labelled feedback rows exist. */
      minFeedback: z.number().int().min(1).default(20),
      /** Ignore drift until this many predictions were logged. */
      minPredictions: z.number().int().min(1).default(50),
      /**
       * Estimated accuracy without labels (CBPE) whose whole 95% band lies below this means
       * degradation. Absent: the test split's accuracy minus 0.1.
       */
      minEstimatedAccuracy: z.number().min(0).max(1).optional(),
      /** Ask for a retrain only after this many windows in a row crossed a threshold, so one noisy window does not. */
      consecutive: z.number().int().min(1).max(100).default(2),
    })
    .prefault({}),
  roles: z
    .strictObject({
      auditors: z.array(userNameSchema).min(1),
      deployers: z.array(userNameSchema).min(1),
      /**
       * "required": every audit, deploy, rollback and retrain decision must be a statement signed
       * with a key registered for its author (mlc keys); unsigned ones are refused and recorded.
       */
      signatures: z.enum(['required', 'optional']).default('optional'),
      /** Whoever approved a version may not deploy it. Turning it off is recorded with each such deploy. */
      separationOfDuties: z.boolean().default(true),
    })
    .refine((r) => !r.separationOfDuties || !r.auditors.some((a) => r.deployers.includes(a)), {
      message:
        'someone is both an auditor and a deployer; under separation of duties nobody may approve and deploy the same model. Use different people, or set roles.separationOfDuties: false (recorded with every deploy it allows)',
      path: ['deployers'],
    }),
  deployment: deploymentSchema.prefault({ target: 'local' }),
  /**
   * Which of the two ONNX files the job writes is deployed: `fp32` (the export as trained) or
   * `int8` (dynamically quantised: faster on CPU, slightly different scores). The model card
   * shows both on the test split; the auditor approves the run folder holding the choice.
   */
  serving: z
    .strictObject({
      precision: z
        .enum(servingPrecisions, {
          error: (issue) =>
            `must be "fp32" (the model as trained) or "int8" (dynamically quantised, faster on CPU; compare both in the model card), got ${JSON.stringify(issue.input)}`,
        })
        .default('fp32'),
    })
    .prefault({}),
});
export type ModelSpec = z.infer<typeof modelSpecSchema>;
export type ModelSpecInput = z.input<typeof modelSpecSchema>;

/** A problem with one field of some input: its dotted path ('' = the whole input) and what is wrong. */
export interface FieldIssue {
  path: string;
  message: string;
}

/**
 * A validation issue (zod's, or one of ours) with its path and message clipped: zod echoes
 * unknown keys, and a 100 kB key must not become a 100 kB error message, status or history entry.
 */
export function fieldIssue(issue: { path: string | readonly PropertyKey[]; message: string }): FieldIssue {
  const path = typeof issue.path === 'string' ? issue.path : issue.path.map(String).join('.');
  return { path: clipText(path, 120), message: clipText(issue.message, 400) };
}

/** The first `listed` issues as "path: message" lines, then how many more there were. */
export function listIssues(issues: readonly FieldIssue[], listed: number): string[] {
  const lines = issues.slice(0, listed).map((i) => `${i.path || '(root)'}: ${i.message}`);
  return issues.length > listed ? [...lines, `and ${issues.length - listed} more`] : lines;
}

export class SpecError extends Error {
  override name = 'SpecError';
  /** Retrying cannot fix it: the activity fails at once (see activities/errors.ts). */
  readonly nonRetryable = true;
  /** Every issue, clipped (see fieldIssue); the message lists the first ten. */
  readonly issues: FieldIssue[];
  constructor(
    readonly source: string,
    issues: readonly { path: string | readonly PropertyKey[]; message: string }[],
  ) {
    const clipped = issues.map((i) => fieldIssue(i));
    super(
      `Invalid model spec ${clipText(source, 300)}:\n${listIssues(clipped, 10)
        .map((line) => `  - ${line}`)
        .join('\n')}\nFix these fields and start again (see README, "Model spec").`,
    );
    this.issues = clipped;
  }
}

export function parseSpec(input: unknown, source = '(inline)'): ModelSpec {
  const parsed = modelSpecSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new SpecError(source, parsed.error.issues);
}
