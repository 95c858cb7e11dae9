"""SLURM's warnings before a job ends. SIGUSR1 (sbatch --signal=B:USR1@N) means the time limit is
near: checkpoint and requeue. SIGTERM (scancel, preemption, the limit itself) means we are being
killed: checkpoint within KillWait and exit. Handlers only record the signal; the training loop acts
on it at the next step boundary, where the model, optimizer and RNG agree with each other."""
from __future__ import annotations

import os
import signal
import subprocess

from .outputs import log, warn


class StopRequest:
    def __init__(self) -> None:
        self.signum: int | None = None

    def install(self) -> None:
        signal.signal(signal.SIGUSR1, self._record)
        signal.signal(signal.SIGTERM, self._record)

    def _record(self, signum: int, _frame) -> None:
        # SIGTERM outranks SIGUSR1: once we are being killed, a requeue request is moot.
        if self.signum is None or signum == signal.SIGTERM:
            self.signum = signum

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else ""


def ignore_in_worker(_worker_id: int) -> None:
    """DataLoader workers must outlive the signal: SLURM signals every process of the job, and a
    worker dying first would crash the main loop before it could checkpoint."""
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def requeue() -> bool:
    """Asks SLURM to requeue this job (the sbatch script must allow it: --requeue). True on success."""
    job_id = os.environ.get("SLURM_JOB_ID")
    if not job_id:
        return False
    try:
        done = subprocess.run(["scontrol", "requeue", job_id], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        warn(f"scontrol requeue {job_id} failed: {e}")
        return False
    if done.returncode != 0:
        warn(f"scontrol requeue {job_id} failed (exit {done.returncode}): {done.stderr.strip()}")
        return False
    log(f"requeued SLURM job {job_id}; it will resume from the checkpoint")
    return True
