"""The training loop: AdamW with linear warmup and decay, mixed precision, gradient clipping,
optional label smoothing, token-level augmentation and an exponential moving average of the
weights, per-epoch validation, early stopping on macro-F1, and checkpoints that a later run
resumes from."""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from . import checkpoint
from .augment import AugmentedRows
from .checkpoint import TrainState
from .data import BucketBatchSampler, Encoded, PadCollator, TokenDataset, eval_batches
from .metrics import accuracy, macro_f1
from .outputs import log
from .progress import Progress
from .signals import StopRequest, ignore_in_worker

STEP_RECORD_EVERY = 10  # metrics.json "steps" granularity
STEP_LOG_EVERY = 50  # stdout granularity between epoch lines


@dataclass
class Setup:
    params: dict[str, Any]
    device: torch.device
    precision: str  # fp32 | bf16 | fp16, already resolved for the device
    pad_id: int
    num_labels: int
    checkpoint_dir: Any  # Path
    fingerprint: str
    progress: Progress | None = None  # progress.json for the people waiting; None in unit tests


def autocast(setup: Setup):
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(setup.precision)
    return torch.autocast(device_type=setup.device.type, dtype=dtype or torch.float32, enabled=dtype is not None)


def make_optimizer(model: torch.nn.Module, params: dict[str, Any]) -> torch.optim.Optimizer:
    # The usual transformer recipe: no weight decay on biases and LayerNorm gains (1-d tensors).
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": params["weightDecay"]},
                              {"params": no_decay, "weight_decay": 0.0}], lr=params["learningRate"])


def make_scheduler(optimizer: torch.optim.Optimizer, total_steps: int, warmup_ratio: float):
    warmup = int(math.ceil(total_steps * warmup_ratio))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    # A closure, not an object: LambdaLR then saves only its step count, and a resumed run with more
    # epochs recomputes the decay over its new length.
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


@torch.no_grad()
def predict(model, encoded: Encoded, setup: Setup, batch_size: int) -> np.ndarray:
    """Logits (float32, in row order) for every row of a split."""
    model.eval()
    collate = PadCollator(setup.pad_id)
    out = np.zeros((len(encoded), setup.num_labels), dtype=np.float32)
    dummy = np.zeros(len(encoded), dtype=np.int64)
    dataset = TokenDataset(encoded, dummy)
    for rows in eval_batches(encoded.lengths, batch_size):
        batch = collate([dataset[i] for i in rows])
        with autocast(setup):
            logits = model(batch["input_ids"].to(setup.device), batch["attention_mask"].to(setup.device))
        out[rows] = logits.float().cpu().numpy()
    return out


def evaluate(model, encoded: Encoded, labels: np.ndarray, setup: Setup, criterion) -> dict[str, float]:
    logits = predict(model, encoded, setup, setup.params["batchSize"] * 2)
    loss = criterion(torch.from_numpy(logits).to(setup.device), torch.from_numpy(labels).to(setup.device)).item()
    preds = logits.argmax(axis=1)
    return {"val_loss": loss, "val_accuracy": accuracy(labels, preds), "val_macro_f1": macro_f1(labels, preds, setup.num_labels)}


def train_step(model, batch: dict[str, torch.Tensor], criterion, optimizer, scheduler, scaler, setup: Setup) -> float:
    batch = {k: v.to(setup.device, non_blocking=True) for k, v in batch.items()}
    with autocast(setup):
        logits = model(batch["input_ids"], batch["attention_mask"])
    loss = criterion(logits.float(), batch["labels"])
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)  # clip the true gradients, not the fp16-scaled ones
    torch.nn.utils.clip_grad_norm_(model.parameters(), setup.params["gradClip"])
    scaler.step(optimizer)  # skipped by the scaler when fp16 gradients overflowed
    scaler.update()
    scheduler.step()
    return loss.item()


class WeightAverage:
    """An exponential moving average of the weights (and buffers), kept in fp32 beside the model.
    Early steps average over fewer steps ((1 + t) / (10 + t), as TensorFlow's EMA does), so the
    random initial weights do not linger in it for the first thousand steps."""

    def __init__(self, model: torch.nn.Module, decay: float, averaged: dict[str, torch.Tensor] | None = None):
        self.decay = decay
        self.averaged = averaged if averaged is not None else {
            k: v.detach().float().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        decay = min(self.decay, (1 + step) / (10 + step))
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.averaged[k].mul_(decay).add_(v.detach().float(), alpha=1 - decay)
            else:
                self.averaged[k].copy_(v)

    def swapped_in(self, model: torch.nn.Module):
        """Context: the model holds the averaged weights inside, its own again after."""
        average = self

        class Swap:
            def __enter__(self):
                self.own = {k: v.detach().clone() for k, v in model.state_dict().items()}
                model.load_state_dict({k: v.to(self.own[k].dtype) for k, v in average.averaged.items()})

            def __exit__(self, *exc):
                model.load_state_dict(self.own)

        return Swap()


def validated_weights(model: torch.nn.Module, average: WeightAverage | None):
    """Context: the model holds the weights that are validated, kept as best and exported: the
    moving average's when there is one (emaDecay), else its own."""
    return average.swapped_in(model) if average is not None else contextlib.nullcontext()


@dataclass
class Outcome:
    state: TrainState
    interrupted_by: str | None  # signal name when the loop stopped for a signal


def train(model, train_data: tuple[Encoded, np.ndarray], valid_data: tuple[Encoded, np.ndarray],
          class_weights: np.ndarray | None, setup: Setup, stop: StopRequest, resume: dict[str, Any] | None) -> Outcome:
    p = setup.params
    model.to(setup.device)
    encoded, labels = train_data
    batches_per_epoch = len(BucketBatchSampler(encoded.lengths, p["batchSize"], p["seed"], 0))
    optimizer = make_optimizer(model, p)
    scheduler = make_scheduler(optimizer, batches_per_epoch * p["epochs"], p["warmupRatio"])
    # Loss scaling only for fp16: bf16 has fp32's range and needs none.
    scaler = torch.amp.GradScaler(setup.device.type, enabled=setup.precision == "fp16")
    weight = torch.tensor(class_weights, dtype=torch.float32, device=setup.device) if class_weights is not None else None
    criterion = torch.nn.CrossEntropyLoss(weight=weight, label_smoothing=p["labelSmoothing"])
    average = WeightAverage(model, p["emaDecay"]) if p["emaDecay"] else None

    state = TrainState()
    if resume is not None:
        state = checkpoint.state_from(resume)
        model.load_state_dict(resume["model"])
        optimizer.load_state_dict(resume["optimizer"])
        scheduler.load_state_dict(resume["scheduler"])
        if scaler.is_enabled() and resume["scaler"]:
            scaler.load_state_dict(resume["scaler"])
        checkpoint.restore_rng(resume["rng"])
        if average is not None and resume.get("ema") is not None:
            average = WeightAverage(model, p["emaDecay"], {k: v.float() for k, v in resume["ema"].items()})
        log(f"resuming from checkpoint at step {state.step} (epoch {state.epoch}, batch {state.batch_in_epoch})")

    augmenting = p["tokenDropout"] > 0 or p["tokenSwap"] > 0
    started, seconds_before = time.monotonic(), state.train_seconds

    def save(reason: str) -> None:
        state.train_seconds = seconds_before + time.monotonic() - started
        checkpoint.save(setup.checkpoint_dir, setup.fingerprint, state, model, optimizer, scheduler, scaler, reason,
                        ema=average.averaged if average is not None else None)

    for epoch in range(state.epoch, p["epochs"]):
        if state.stopped_early:
            break
        model.train()
        dataset = AugmentedRows(encoded, labels, p, epoch) if augmenting else TokenDataset(encoded, labels)
        sampler = BucketBatchSampler(encoded.lengths, p["batchSize"], p["seed"], epoch, start=state.batch_in_epoch)
        loader = DataLoader(dataset, batch_sampler=sampler, collate_fn=PadCollator(setup.pad_id),
                            num_workers=p["numWorkers"], pin_memory=setup.device.type == "cuda",
                            worker_init_fn=ignore_in_worker if p["numWorkers"] else None)
        for batch in loader:
            value = train_step(model, batch, criterion, optimizer, scheduler, scaler, setup)
            state.step += 1
            if average is not None:
                average.update(model, state.step)
            state.batch_in_epoch += 1
            state.epoch_loss_sum += value
            state.epoch_batches += 1
            state.window_loss_sum += value
            state.window_batches += 1
            if state.step % STEP_RECORD_EVERY == 0:
                lr = scheduler.get_last_lr()[0]
                state.steps.append({"step": state.step, "loss": state.window_loss_sum / state.window_batches, "lr": lr})
                state.window_loss_sum, state.window_batches = 0.0, 0
                if setup.progress is not None:
                    setup.progress.step(epoch + 1, p["epochs"], state.step, batches_per_epoch * p["epochs"], state.steps[-1]["loss"], lr)
                if state.step % STEP_LOG_EVERY == 0:
                    # Starts with "step", so only the per-epoch summaries start with "epoch".
                    log(f"step {state.step} (epoch {epoch + 1}/{p['epochs']}) loss {state.steps[-1]['loss']:.4f} lr {lr:.2e}")
            if stop.requested:
                save("signal")
                return Outcome(state, stop.name)
            if state.step % p["checkpointEverySteps"] == 0:
                save("interval")

        with validated_weights(model, average):
            metrics = evaluate(model, *valid_data, setup, criterion)
        train_loss = state.epoch_loss_sum / max(1, state.epoch_batches)
        state.history.append({"epoch": epoch + 1, "step": state.step, "train_loss": train_loss, **metrics})
        if setup.progress is not None:
            setup.progress.validated(state.history[-1])
        log(f"epoch {epoch + 1}/{p['epochs']} step {state.step} loss {train_loss:.4f} "
            f"val_macro_f1 {metrics['val_macro_f1']:.4f} val_acc {metrics['val_accuracy']:.4f} val_loss {metrics['val_loss']:.4f}")
        if p["averageEpochs"] > 1:
            with validated_weights(model, average):
                checkpoint.save_epoch(setup.checkpoint_dir, model, epoch + 1, p["averageEpochs"])
        if metrics["val_macro_f1"] > state.best_score:
            state.best_score, state.best_epoch, state.best_accuracy = metrics["val_macro_f1"], epoch + 1, metrics["val_accuracy"]
            state.bad_epochs = 0
            with validated_weights(model, average):
                checkpoint.save_best(setup.checkpoint_dir, model)
        else:
            state.bad_epochs += 1
            if state.bad_epochs >= p["patience"]:
                state.stopped_early = True
                log(f"early stopping: val_macro_f1 has not improved for {state.bad_epochs} epochs (best {state.best_score:.4f} at epoch {state.best_epoch})")
        state.epoch, state.batch_in_epoch = epoch + 1, 0
        state.epoch_loss_sum, state.epoch_batches = 0.0, 0
        save("epoch")
        if stop.requested:  # arrived during validation; the epoch checkpoint above already holds everything
            log(f"checkpoint saved (reason: signal) at epoch {state.epoch} step {state.step}")
            return Outcome(state, stop.name)

    if p["averageEpochs"] > 1 and state.averaged is None:
        state.averaged = average_last_epochs(model, valid_data, setup, criterion, state)
    state.train_seconds = seconds_before + time.monotonic() - started
    return Outcome(state, None)


def average_last_epochs(model, valid_data, setup: Setup, criterion, state: TrainState) -> dict[str, Any]:
    """The mean of the last `averageEpochs` epochs' validated weights (an average over checkpoints, as
    in stochastic weight averaging), validated like an epoch; it replaces the best weights only if its
    validation macro-F1 beats theirs. Returns what the job records as `averaged`."""
    epochs, weights = checkpoint.load_epochs(setup.checkpoint_dir, setup.params["averageEpochs"])
    own = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.load_state_dict(weights)
    metrics = evaluate(model, *valid_data, setup, criterion)
    kept = metrics["val_macro_f1"] > state.best_score
    if kept:
        checkpoint.save_best(setup.checkpoint_dir, model)
        state.best_score, state.best_accuracy = metrics["val_macro_f1"], metrics["val_accuracy"]
    model.load_state_dict(own)
    log(f"average of epochs {epochs[0]}-{epochs[-1]}: val_macro_f1 {metrics['val_macro_f1']:.4f} "
        f"val_acc {metrics['val_accuracy']:.4f}; {'kept' if kept else 'not kept'} (best epoch {state.best_epoch})")
    return {"epochs": epochs, "kept": kept, **metrics}
