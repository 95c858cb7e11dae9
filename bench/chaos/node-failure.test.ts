import { describe, expect, it } from 'vitest';
import { epochsCompleted, savedCheckpoints } from './node-failure';

// Lines of a real chaos-spec job's log (2 epochs of 79 steps, a checkpoint every 10).
const log = (...lines: string[]) =>
  ['device cpu precision fp32 threads 1 trial None out /runs/x', 'rows train 630 valid 90 test 180', ...lines].join('\n') + '\n';

describe('epochsCompleted', () => {
  it('reads the epochs done from checkpoint lines and per-epoch summaries, not from step lines', () => {
    expect(epochsCompleted(log())).toBe(0);
    expect(epochsCompleted(log('checkpoint saved (reason: interval) at epoch 0 step 10', 'step 50 (epoch 1/2) loss 1.3448 lr 3.80e-04'))).toBe(0);
    // The summary comes before the epoch's own checkpoint: done from that line on.
    expect(
      epochsCompleted(
        log('checkpoint saved (reason: interval) at epoch 0 step 70', 'epoch 1/2 step 79 loss 1.3508 val_macro_f1 0.1958 val_acc 0.3556 val_loss 1.4298'),
      ),
    ).toBe(1);
    expect(
      epochsCompleted(
        log(
          'checkpoint saved (reason: epoch) at epoch 1 step 79',
          'checkpoint saved (reason: interval) at epoch 1 step 80',
          'step 100 (epoch 2/2) loss 1.3162 lr 2.04e-04',
        ),
      ),
    ).toBe(1);
    expect(
      epochsCompleted(
        log('epoch 2/2 step 158 loss 1.3245 val_macro_f1 0.2489 val_acc 0.4889 val_loss 1.4592', 'checkpoint saved (reason: epoch) at epoch 2 step 158'),
      ),
    ).toBe(2);
  });
});

describe('savedCheckpoints', () => {
  it('lists each checkpoint line with its epochs done and step, of every reason, in order', () => {
    const lines = log(
      'checkpoint saved (reason: interval) at epoch 0 step 70',
      'epoch 1/2 step 79 loss 1.3508 val_macro_f1 0.1958 val_acc 0.3556 val_loss 1.4298',
      'checkpoint saved (reason: epoch) at epoch 1 step 79',
      'step 100 (epoch 2/2) loss 1.3162 lr 2.04e-04',
      'checkpoint saved (reason: signal) at epoch 1 step 104',
    );
    expect(savedCheckpoints(lines)).toEqual([
      { epoch: 0, step: 70 },
      { epoch: 1, step: 79 },
      { epoch: 1, step: 104 },
    ]);
    expect(savedCheckpoints(log('resuming from checkpoint at step 104 (epoch 1, batch 25)'))).toEqual([]);
  });
});
