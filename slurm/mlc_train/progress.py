"""progress.json: what the job is doing right now, for people waiting on it. The worker that watches
the job reads it from the run folder and puts it in its heartbeat, so `mlc status`, the wait line of
`mlc start` and the Web UI's pending activity show the epoch, the step and the last validation while
the job runs, where SLURM alone says only RUNNING. It is a view, never an input: nothing resumes from
it (checkpoints do that), and a write that fails only costs the view."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .outputs import warn, write_json

PROGRESS_FILE = "progress.json"
# A step's write is skipped if the last one is younger than this: the watcher reads every few
# seconds, and each write is an fsync on NFS.
MIN_SECONDS_BETWEEN_STEPS = 5.0


class Progress:
    def __init__(self, out_dir: Path, clock=time.monotonic):
        self.path = out_dir / PROGRESS_FILE
        self.clock = clock
        self.state: dict[str, Any] = {"phase": "starting"}
        self.last_write: float | None = None

    def phase(self, name: str, **fields: Any) -> None:
        """A new phase (preparing, pretraining, teacher, exporting; `step` sets training): always written."""
        self.state = {**self.state, "phase": name, **fields}
        self._write()

    def step(self, epoch: int, epochs: int, step: int, steps: int, loss: float, lr: float) -> None:
        """`loss` and `lr` are metrics.json's `steps` entry at `step`, value for value."""
        self.state = {**self.state, "phase": "training", "epoch": epoch, "epochs": epochs, "step": step, "steps": steps,
                      "loss": loss, "lr": lr}
        if self.last_write is None or self.clock() - self.last_write >= MIN_SECONDS_BETWEEN_STEPS:
            self._write()

    def validated(self, entry: dict[str, Any]) -> None:
        """metrics.json's `history` entry of the epoch just validated (epoch, step, train_loss, val_*): the
        worker records it as metric history while the job runs, under the keys the finished file gives it."""
        self.state = {**self.state, "validation": dict(entry)}
        self._write()

    def _write(self) -> None:
        self.last_write = self.clock()
        try:
            write_json(self.path, {**self.state, "updatedAt": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        except OSError as err:  # a full or flaky share must not stop the training it only describes
            warn(f"could not write {self.path}: {err}")
