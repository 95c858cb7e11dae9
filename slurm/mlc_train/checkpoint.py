"""Resumable training state. One file, checkpoints/last.pt, replaced atomically, so a job killed at
any instant leaves either the previous checkpoint or the new one. The best weights so far live
beside it in checkpoints/best.pt, because early stopping may pick an epoch older than the last."""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .outputs import log, torch_save, warn

LAST = "last.pt"
BEST = "best.pt"


@dataclass
class TrainState:
    epoch: int = 0  # epochs completed
    batch_in_epoch: int = 0  # batches of the current epoch already trained on
    step: int = 0  # optimizer steps overall
    best_score: float = -1.0
    best_epoch: int | None = None
    best_accuracy: float | None = None
    bad_epochs: int = 0  # epochs since the best one (patience counter)
    stopped_early: bool = False
    epoch_loss_sum: float = 0.0
    epoch_batches: int = 0
    window_loss_sum: float = 0.0  # loss since the last entry in `steps`
    window_batches: int = 0
    train_seconds: float = 0.0  # summed over every run that trained this model (resumes included)
    averaged: dict[str, Any] | None = None  # averageEpochs: the average's epochs, metrics and whether it was kept
    history: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)


def capture_rng() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def save(folder: Path, fingerprint: str, state: TrainState, model, optimizer, scheduler, scaler, reason: str,
         ema: dict[str, torch.Tensor] | None = None) -> None:
    torch_save(folder / LAST, {
        "ema": ema,  # the moving average of the weights (emaDecay), None without one
        "fingerprint": fingerprint,
        "state": asdict(state),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        "rng": capture_rng(),
    })
    log(f"checkpoint saved (reason: {reason}) at epoch {state.epoch} step {state.step}")


def save_best(folder: Path, model) -> None:
    torch_save(folder / BEST, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()})


def save_epoch(folder: Path, model, epoch: int, keep: int) -> None:
    """This epoch's validated weights, for the average over the last `keep` epochs (averageEpochs);
    older ones are removed, so at most `keep` files are ever on disk."""
    torch_save(folder / f"epoch-{epoch}.pt", {k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
    for old in folder.glob("epoch-*.pt"):
        if int(old.stem.split("-")[1]) <= epoch - keep:
            old.unlink(missing_ok=True)


def load_epochs(folder: Path, keep: int) -> tuple[list[int], dict[str, torch.Tensor]]:
    """The epochs saved by save_epoch (the last `keep`) and the mean of their weights; integer
    buffers are taken from the last epoch."""
    epochs = sorted(int(f.stem.split("-")[1]) for f in folder.glob("epoch-*.pt"))[-keep:]
    states = [torch.load(folder / f"epoch-{e}.pt", map_location="cpu", weights_only=True) for e in epochs]
    mean = {k: (torch.stack([s[k].float() for s in states]).mean(0).to(v.dtype) if v.is_floating_point() else v)
            for k, v in states[-1].items()}
    return epochs, mean


def load_matching(folder: Path, fingerprint: str, device: torch.device) -> dict[str, Any] | None:
    """The checkpoint in `folder` if it belongs to this run (same data, labels and weight-shaping params)."""
    path = folder / LAST
    if not path.is_file():
        return None
    try:
        # Our own file; it holds RNG states (numpy arrays, tuples), which weights_only would refuse.
        blob = torch.load(path, map_location=device, weights_only=False)
    except Exception as e:
        warn(f"checkpoint {path} unreadable ({e}); starting from scratch")
        return None
    if blob.get("fingerprint") != fingerprint:
        log(f"checkpoint {path} belongs to a different config; starting from scratch")
        return None
    return blob


def state_from(blob: dict[str, Any]) -> TrainState:
    return TrainState(**blob["state"])
