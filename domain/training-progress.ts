// What a running training job says it is doing (progress.json in its run folder, written by
// slurm/mlc_train/progress.py), as the job watcher carries it in its heartbeat: SLURM alone
// says only RUNNING for the whole of a job. A view for people, never an input to a decision.
import { z } from 'zod';

export const PROGRESS_FILE = 'progress.json';
/** The phase the job watcher gives a search's trial that has written its DONE. */
export const TRIAL_DONE_PHASE = 'done';

const count = z.number().int().nonnegative();

export const trainingProgressSchema = z.object({
  /** preparing | pretraining | teacher | training | exporting (the job's words), or done for a search's finished trial. */
  phase: z.string().min(1).max(40),
  epoch: count.optional(),
  epochs: count.optional(),
  step: count.optional(),
  steps: count.optional(),
  /** metrics.json's `steps` entry at `step`: the loss over the last few steps, and the learning rate. */
  loss: z.number().finite().optional(),
  lr: z.number().finite().optional(),
  /** metrics.json's `history` entry of the last epoch validated: epoch, step, train_loss, val_loss, val_accuracy, val_macro_f1. */
  validation: z.object({ epoch: count, step: count.optional() }).catchall(z.number().finite()).optional(),
  updatedAt: z.string().max(40),
});
export type TrainingProgress = z.infer<typeof trainingProgressSchema>;

/** A search's trial (one task of the job array), by its index, and what it last wrote in trial-<i>/. */
export const trialProgressSchema = z.object({ trial: count, progress: trainingProgressSchema });
export type TrialProgress = z.infer<typeof trialProgressSchema>;

/**
 * The job watcher's heartbeat details: the job's state and what the job last wrote, as one
 * progress (a run) or one per trial that has started (a search); absent `trials` reads as none.
 */
export const jobWatchBeatSchema = z.object({
  jobState: z.string().nullable(),
  progress: trainingProgressSchema.nullable(),
  trials: z.array(trialProgressSchema).max(1000).optional(),
});
export type JobWatchBeat = z.infer<typeof jobWatchBeatSchema>;
/** What the job last wrote, without its state: a run's progress, or a search's trials'. */
export type JobProgress = Pick<JobWatchBeat, 'progress' | 'trials'>;

/**
 * A search's trial writes its files in `<runDir>/trial-<i>/`: the index of the trial whose `file`
 * (progress.json by default; DONE when it has finished) `key` is, or null for any other key.
 */
export function trialOfKey(runDir: string, key: string, file = PROGRESS_FILE): number | null {
  const rest = key.startsWith(`${runDir}/`) ? key.slice(runDir.length + 1) : '';
  const m = /^trial-(\d{1,6})\/(.+)$/.exec(rest);
  return m && m[2] === file ? Number(m[1]) : null;
}

/** What a beat says of the job: its own progress, else a line per trial ("trial 2: epoch 1/5 · …"). */
export function formatJobProgress(beat: JobProgress, now?: number): string[] {
  if (beat.progress) return [formatTrainingProgress(beat.progress, now)];
  return (beat.trials ?? []).map((t) => `trial ${t.trial}: ${formatTrainingProgress(t.progress, now)}`);
}

/** progress.json's text, or null when it is not (yet) a progress file: a half-copied or foreign file only costs the view. */
export function parseTrainingProgress(text: string): TrainingProgress | null {
  try {
    const parsed = trainingProgressSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

// The early-stopping metric and accuracy; the losses are in the registry's curves (mlc runs show).
const SHOWN_VALIDATION = ['val_macro_f1', 'val_accuracy'];

const PHASES: Record<string, string> = {
  preparing: 'preparing (data, tokenizer)',
  pretraining: 'pretraining the encoder (mlmEpochs)',
  teacher: 'fitting the distillation teacher',
  exporting: 'exporting ONNX and checking parity',
  [TRIAL_DONE_PHASE]: 'finished',
};

/**
 * One line: "epoch 2/5 · step 1,450/5,460 (26%) · loss 0.8123 · validation (epoch 1) macro_f1 0.5512 accuracy 0.6800 · 4s ago".
 * Without `now`, no age: a line printed whenever it changes must not change every second.
 */
export function formatTrainingProgress(p: TrainingProgress, now?: number): string {
  const parts: string[] = [];
  if (p.phase !== 'training') parts.push(PHASES[p.phase] ?? p.phase);
  else {
    if (p.epoch !== undefined && p.epochs !== undefined) parts.push(`epoch ${p.epoch}/${p.epochs}`);
    if (p.step !== undefined && p.steps)
      parts.push(`step ${p.step.toLocaleString('en')}/${p.steps.toLocaleString('en')} (${Math.floor((100 * p.step) / p.steps)}%)`);
    if (p.loss !== undefined) parts.push(`loss ${p.loss.toFixed(4)}`);
  }
  if (p.validation) {
    const shown = SHOWN_VALIDATION.filter((k) => p.validation![k] !== undefined).map((k) => `${k.replace(/^val_/, '')} ${p.validation![k]!.toFixed(4)}`);
    parts.push(`validation (epoch ${p.validation.epoch}) ${shown.join(' ')}`.trimEnd());
  }
  const at = Date.parse(p.updatedAt);
  if (now !== undefined && Number.isFinite(at)) parts.push(`${Math.max(0, Math.round((now - at) / 1000))}s ago`);
  return parts.join(' · ');
}
