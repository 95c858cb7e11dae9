// progress.json as the job writes it in the middle of epoch 2 (slurm/mlc_train/progress.py), for
// tests of what reads it: the parser and the status line, the Web UI, `mlc status`.
import type { TrainingProgress } from '../../domain/training-progress';

export function progressInEpoch2(updatedAt: string): TrainingProgress {
  return {
    phase: 'training',
    epoch: 2,
    epochs: 5,
    step: 1450,
    steps: 5460,
    loss: 0.8123,
    lr: 0.00045,
    validation: { epoch: 1, step: 1092, train_loss: 0.9, val_loss: 0.74, val_accuracy: 0.68, val_macro_f1: 0.5512 },
    updatedAt,
  };
}

/** Its status line: what `mlc status` prints after "progress". */
export const progressInEpoch2Line = 'epoch 2/5 · step 1,450/5,460 (26%) · loss 0.8123 · validation (epoch 1) macro_f1 0.5512 accuracy 0.6800';
