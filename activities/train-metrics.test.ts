import { describe, expect, it } from 'vitest';
import { flattenTrainMetrics } from './train-metrics';

describe('flattenTrainMetrics', () => {
  it('records each lever only when the job used it: averaged epochs, pretraining, the distillation teacher', () => {
    const plain = flattenTrainMetrics({
      best: { val_macro_f1: 0.56, val_accuracy: 0.69, epoch: 3 },
      onnx_parity: { max_abs_logit_diff: 1e-6, label_agreement: 1 },
      train_seconds: 110.5,
      pretrain: null,
      teacher: null,
    });
    expect(plain).toEqual({
      best_val_macro_f1: 0.56,
      best_val_accuracy: 0.69,
      best_epoch: 3,
      onnx_max_abs_logit_diff: 1e-6,
      onnx_label_agreement: 1,
      train_seconds: 110.5,
    });
    const all = flattenTrainMetrics({
      best: { val_macro_f1: 0.57, averaged_epochs: [2, 3, 4] },
      pretrain: { seconds: 160 },
      teacher: { seconds: 23.5, oof_accuracy: 0.6575 },
    });
    expect(all).toMatchObject({ averaged_epochs: 3, pretrain_seconds: 160, teacher_seconds: 23.5, teacher_oof_accuracy: 0.6575 });
  });

  it('leaves out what is not a finite number', () => {
    expect(flattenTrainMetrics({ best: { val_macro_f1: Number.NaN }, teacher: { seconds: 'x' as unknown as number } })).toEqual({});
  });
});
