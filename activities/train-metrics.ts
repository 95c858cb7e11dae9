// metrics.json (slurm/README.md, "metrics.json") as the registry's run metrics: the numbers a
// user compares across runs (`mlc runs`, `mlc runs compare`), each present only when the job wrote it.
export interface TrainMetricsFile {
  params?: Record<string, unknown>;
  best?: { val_macro_f1?: number; val_accuracy?: number; epoch?: number; averaged_epochs?: number[] };
  onnx_parity?: { max_abs_logit_diff?: number; label_agreement?: number };
  train_seconds?: number;
  pretrain?: { seconds?: number } | null;
  teacher?: { seconds?: number; oof_accuracy?: number } | null;
}

export function flattenTrainMetrics(m: TrainMetricsFile): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (k: string, v: unknown) => {
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  };
  put('best_val_macro_f1', m.best?.val_macro_f1);
  put('best_val_accuracy', m.best?.val_accuracy);
  put('best_epoch', m.best?.epoch);
  // How many epochs' weights were averaged into the exported model (averageEpochs), when the average won.
  put('averaged_epochs', m.best?.averaged_epochs?.length);
  put('onnx_max_abs_logit_diff', m.onnx_parity?.max_abs_logit_diff);
  put('onnx_label_agreement', m.onnx_parity?.label_agreement);
  put('train_seconds', m.train_seconds);
  put('pretrain_seconds', m.pretrain?.seconds);
  // The distillation teacher (distillWeight): its time and its out-of-fold accuracy on the train split.
  put('teacher_seconds', m.teacher?.seconds);
  put('teacher_oof_accuracy', m.teacher?.oof_accuracy);
  return out;
}
