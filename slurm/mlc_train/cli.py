"""Entry point: parse the CLI, check the config (before torch loads), then tokenize, train, export
and verify. See slurm/README.md for the contract the TypeScript submitter relies on."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .config import JobConfig, load_job_config
from .errors import EXIT_CHECKPOINTED, EXIT_TERMINATED, JobError
from .outputs import log, warn, write_text


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="train.py", description="Train the RoBERTa+LSTM sentiment classifier.")
    parser.add_argument("--config", required=True, type=Path, help="CONFIG.json: labels, datasetHash, pretrainedDir, params")
    parser.add_argument("--data-dir", required=True, type=Path, help="folder with train.jsonl, valid.jsonl, test.jsonl")
    parser.add_argument("--out-dir", required=True, type=Path, help="where outputs and checkpoints go")
    parser.add_argument("--cache-dir", type=Path, help="tokenization cache (default: OUT_DIR/../.cache)")
    parser.add_argument("--trials", type=Path, help="TRIALS.json: param overrides, one per SLURM_ARRAY_TASK_ID")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)  # argparse itself exits 2 on a usage error
    try:
        job = load_job_config(args.config, args.data_dir, args.out_dir, args.cache_dir, args.trials)
        return run(job)
    except JobError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return e.exit_code


def record_slurm_job(job: JobConfig) -> None:
    """The submitter finds the job it already submitted by this file (idempotent resubmission)."""
    job_id = os.environ.get("SLURM_JOB_ID")
    if job_id:
        write_text(job.out_dir / "slurm-job-id", job_id + "\n")
    array_id = os.environ.get("SLURM_ARRAY_JOB_ID")
    if job.trial is not None and array_id:
        write_text(job.base_out_dir / "slurm-job-id", array_id + "\n")  # every task writes the same id


def already_done(job: JobConfig) -> bool:
    done = job.out_dir / "DONE"
    try:
        return json.loads(done.read_text(encoding="utf-8")).get("config_hash") == job.full_hash()
    except (OSError, ValueError, AttributeError):
        return False


def run(job: JobConfig) -> int:
    from .signals import StopRequest

    # Before anything slow: SIGUSR1's default action would kill the job without a checkpoint.
    stop = StopRequest()
    stop.install()
    job.out_dir.mkdir(parents=True, exist_ok=True)
    record_slurm_job(job)
    if already_done(job):
        log(f"already complete: {job.out_dir / 'DONE'} matches this config; nothing to do")
        return 0
    # From here the outputs change, so a stale DONE must not vouch for them.
    (job.out_dir / "DONE").unlink(missing_ok=True)

    from .pipeline import train_and_export  # torch, transformers: seconds to import, so only now

    outcome = train_and_export(job, stop)
    if outcome is None:
        return 0
    if outcome == "SIGTERM":
        log("stopped by SIGTERM after saving a checkpoint; rerun to resume")
        return EXIT_TERMINATED
    from .signals import requeue

    if requeue():
        return 0
    warn("checkpoint saved on SIGUSR1 but the job was not requeued (no SLURM_JOB_ID, or scontrol failed); "
         "rerun the same command to resume")
    return EXIT_CHECKPOINTED
