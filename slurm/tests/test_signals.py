"""Checkpoint on SLURM's signals, requeue, and resume where the interrupted job left off."""
import json
import os
import re
import signal
import subprocess
import sys

import pytest

from conftest import SLURM_DIR, run_job, subprocess_env, write_config
from mlc_train.errors import EXIT_CHECKPOINTED, EXIT_TERMINATED
from mlc_train.signals import StopRequest

SAVED = re.compile(r"checkpoint saved \(reason: signal\) at epoch (\d+) step (\d+)")


def test_sigusr1_checkpoints_requeues_and_the_requeued_job_resumes(tmp_path, dataset):
    """A real process and a real signal, with a DataLoader worker alive (SLURM signals it too), and a
    fake `scontrol` on PATH standing in for the controller."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scontrol = bin_dir / "scontrol"
    scontrol.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "scontrol.log"}\n')
    scontrol.chmod(0o755)
    config = write_config(tmp_path / "c.json", {"epochs": 3, "numWorkers": 1})
    out = tmp_path / "out"
    env = subprocess_env(SLURM_JOB_ID="4242", PATH=f"{bin_dir}:{os.environ['PATH']}")
    with open(tmp_path / "stderr.txt", "w") as stderr:
        job = subprocess.Popen([sys.executable, str(SLURM_DIR / "train.py"), "--config", str(config), "--data-dir",
                                str(dataset), "--out-dir", str(out)], stdout=subprocess.PIPE, stderr=stderr, text=True,
                               env=env)
        lines = [job.stdout.readline()]
        assert lines[0].startswith("device "), lines  # the handler is installed before this line is printed
        job.send_signal(signal.SIGUSR1)
        rest, _ = job.communicate(timeout=120)
    log = lines[0] + rest
    assert job.returncode == 0, (tmp_path / "stderr.txt").read_text()
    saved = SAVED.search(log)
    assert saved, log
    step = int(saved.group(2))
    assert 1 <= step < 45  # stopped mid-run, at a step boundary
    assert (tmp_path / "scontrol.log").read_text().split() == ["requeue", "4242"]
    assert (out / "slurm-job-id").read_text().strip() == "4242"
    assert (out / "checkpoints" / "last.pt").is_file() and not (out / "DONE").exists()

    # The requeued job: same command, same out dir.
    code, log, err = run_job(config, dataset, out)
    assert code == 0, err
    assert f"resuming from checkpoint at step {step} " in log
    metrics = json.loads((out / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["history"]] == [1, 2, 3] and metrics["history"][-1]["step"] == 45
    assert (out / "DONE").is_file()


@pytest.fixture
def signal_at_start(monkeypatch):
    """Delivers a signal to this process the moment the job installs its handlers."""
    def arm(signum):
        install = StopRequest.install

        def install_then_signal(self):
            install(self)
            os.kill(os.getpid(), signum)

        monkeypatch.setattr(StopRequest, "install", install_then_signal)
    return arm


def test_sigusr1_outside_slurm_saves_and_exits_75(tmp_path, dataset, signal_at_start):
    signal_at_start(signal.SIGUSR1)
    code, log, err = run_job(write_config(tmp_path / "c.json", {"epochs": 1}), dataset, tmp_path / "out")
    assert code == EXIT_CHECKPOINTED == 75
    assert "checkpoint saved (reason: signal) at epoch 0 step 1" in log
    assert "rerun the same command to resume" in err
    assert not (tmp_path / "out" / "DONE").exists()


def test_sigterm_saves_and_exits_143(tmp_path, dataset, signal_at_start):
    signal_at_start(signal.SIGTERM)
    code, log, _ = run_job(write_config(tmp_path / "c.json", {"epochs": 1}), dataset, tmp_path / "out")
    assert code == EXIT_TERMINATED == 143
    assert "checkpoint saved (reason: signal) at epoch 0 step 1" in log
    assert (tmp_path / "out" / "checkpoints" / "last.pt").is_file()


def test_a_checkpoint_from_another_config_is_not_resumed(tmp_path, dataset, signal_at_start):
    signal_at_start(signal.SIGTERM)
    run_job(write_config(tmp_path / "c.json", {"epochs": 1}), dataset, tmp_path / "out")
    code, log, err = run_job(write_config(tmp_path / "c.json", {"epochs": 1, "learningRate": 1e-3}), dataset,
                             tmp_path / "out")
    assert code == EXIT_TERMINATED  # the fixture still signals at start: this run too stops at step 1
    assert "belongs to a different config; starting from scratch" in log
    assert "resuming" not in log
