"""The job's steps in order: device, data, tokenizer, cached tokenization, model, training, and the
outputs a finished job leaves (model.pt, labels.json, model.onnx, model.int8.onnx, deploy.json,
metrics.json, DONE last)."""
from __future__ import annotations

import os
import platform
import random
import socket
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import checkpoint
from .augment import with_rare_copies
from .config import JobConfig
from .data import read_splits, tokenize_cached
from .errors import ConfigError
from .export import DEPLOY_FILE, PRECISION_FILES, assert_parity, check_parity, compare_int8, export_onnx, quantize_int8
from .metrics import class_weights
from .model import build_model, model_artifact
from .outputs import log, sha256_file, torch_save, warn, write_json
from .pretrain import PretrainOutcome, pretrain_encoder
from .progress import Progress
from .signals import StopRequest
from .teacher import Teacher, load_or_fit, soft_targets
from .warm_start import load_weights
from .tokenizer import load_tokenizer, save_tokenizer, train_bpe
from .trainer import Outcome, Setup, train


# The registry keeps a run's per-step curve (loss, learning rate); a days-long job records a point every
# few steps, so metrics.json carries at most this many, each the mean over its stretch of steps.
MAX_STEP_POINTS = 200


def bounded_steps(steps: list[dict[str, Any]], max_points: int = MAX_STEP_POINTS) -> list[dict[str, Any]]:
    """Merges consecutive step points into at most `max_points`: the loss averaged over the merged
    points (each covers the same number of steps), the step and learning rate of the last one."""
    if len(steps) <= max_points:
        return steps
    size = -(-len(steps) // max_points)  # ceil
    merged = []
    for i in range(0, len(steps), size):
        group = steps[i:i + size]
        merged.append({"step": group[-1]["step"], "loss": sum(s["loss"] for s in group) / len(group), "lr": group[-1]["lr"]})
    return merged


def runtime_versions() -> dict[str, str]:
    """The versions that decide what the trained weights and the exported ONNX file are."""
    import onnx
    import onnxruntime
    import transformers

    return {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
            "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__}


def code_commit() -> str | None:
    """The git commit of this training code, for the run's lineage; None outside a git checkout.
    A fixed argument list, no shell: nothing from the spec reaches this command."""
    try:
        done = subprocess.run(["git", "-C", str(Path(__file__).resolve().parent), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and len(commit) == 40 and all(c in "0123456789abcdef" for c in commit) else None


def pick_device(requested_precision: str) -> tuple[torch.device, str]:
    """ROCm builds of torch expose AMD GPUs through torch.cuda, so "cuda" covers the MI-100s."""
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    precision = requested_precision
    if precision == "auto":
        precision = "fp16" if cuda else "fp32"
    elif precision == "fp16" and not cuda:
        warn("precision fp16 needs a GPU; training in fp32 on CPU (use bf16 for mixed precision on CPU)")
        precision = "fp32"
    elif precision == "bf16" and cuda and not torch.cuda.is_bf16_supported():
        warn("this GPU has no bf16; training in fp16 instead")
        precision = "fp16"
    return device, precision


def set_threads() -> int:
    # An explicit OMP_NUM_THREADS wins; else SLURM's allocation, not the node's core count:
    # oversubscribed OpenMP threads spin against each other and slow every job on the node.
    cpus = len(os.sched_getaffinity(0))
    for var in ("OMP_NUM_THREADS", "SLURM_CPUS_PER_TASK"):
        value = os.environ.get(var, "").split(",")[0]  # OMP_NUM_THREADS may list nested levels: "4,2"
        if value.isdigit() and int(value) > 0:
            cpus = int(value)
            break
    torch.set_num_threads(max(1, cpus))
    return cpus


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_and_export(job: JobConfig, stop: StopRequest) -> str | None:
    """Returns None when the outputs are complete, or the name of the signal that stopped training."""
    p = job.params
    device, precision = pick_device(p["precision"])
    threads = set_threads()
    log(f"device {device.type} precision {precision} threads {threads} trial {job.trial} out {job.out_dir}")
    progress = Progress(job.out_dir)
    progress.phase("preparing")
    seed_everything(p["seed"])

    splits = read_splits(job.data_dir, job.labels)
    log("rows " + " ".join(f"{name} {len(s.texts)}" for name, s in splits.items()))
    checkpoint_dir = job.out_dir / "checkpoints"
    resume = checkpoint.load_matching(checkpoint_dir, job.fingerprint(), device)

    if resume is not None and (job.out_dir / "tokenizer.json").is_file():
        tokenizer = load_tokenizer(job.out_dir, p["maxLength"])  # the very tokenizer the checkpoint was trained with
        tokenizer_sha = sha256_file(job.out_dir / "tokenizer.json")
    else:
        if job.init_from is not None:
            tokenizer = load_tokenizer(job.init_from, p["maxLength"])  # its embeddings are numbered by it
        elif job.pretrained_dir is not None:
            tokenizer = load_tokenizer(job.pretrained_dir, p["maxLength"])
        else:
            tokenizer = train_bpe(splits["train"].texts, p["vocabSize"], p["maxLength"], p["preTokenizer"])  # train split only: no leakage
        tokenizer_sha = save_tokenizer(tokenizer, job.out_dir)
    log(f"tokenizer vocab {len(tokenizer)} sha256 {tokenizer_sha[:12]}")
    encoded, _ = tokenize_cached(tokenizer, tokenizer_sha, splits, job.dataset_hash, p["maxLength"], job.cache_dir)

    model = build_model(p, len(job.labels), tokenizer, job.pretrained_dir)
    warm_start = None
    if job.init_from is not None:  # a resumed run then loads its own checkpoint over these weights
        warm_start = load_weights(model, job.init_from, job.labels, p)
        log(f"warm start from {job.init_from} (model.pt sha256 {warm_start['model_sha256'][:12]})")
    weights = None
    if p["classWeights"]:
        weights = class_weights(splits["train"].labels, len(job.labels), p["classWeightPower"])
        log("class weights " + " ".join(f"{label}={w:.3f}" for label, w in zip(job.labels, weights)))
    setup = Setup(params=p, device=device, precision=precision, pad_id=tokenizer.pad_token_id,
                  num_labels=len(job.labels), checkpoint_dir=checkpoint_dir, fingerprint=job.fingerprint(),
                  progress=progress)
    pretrained = None
    if p["mlmEpochs"] and warm_start is not None:
        log("mlmEpochs: skipped, the warm start's encoder is already trained")
    elif p["mlmEpochs"]:
        if tokenizer.mask_token_id is None:
            raise ConfigError("params.mlmEpochs: the tokenizer has no mask token to pretrain with; set mlmEpochs to 0 "
                              "or use a tokenizer with <mask>")
        # A resumed fine-tuning loads its own weights over these; pretraining is then only read back, never redone.
        progress.phase("pretraining")
        pretrained = pretrain_encoder(model.encoder, encoded["train"], tokenizer, setup, stop, checkpoint_dir,
                                      job.fingerprint())
        if pretrained.interrupted_by:
            return pretrained.interrupted_by
    train_ids, train_labels, copy_origins = with_rare_copies(tokenizer, splits["train"], encoded["train"], len(job.labels), p)
    if len(copy_origins):
        log(f"augmentation: {len(copy_origins)} varied copies of rare-class rows added to train")
    teacher = None
    if p["distillWeight"]:
        progress.phase("teacher")
        teacher = load_or_fit(splits["train"].texts, splits["train"].labels, len(job.labels), p["seed"],
                              checkpoint_dir, job.fingerprint())
        train_labels = soft_targets(train_labels, teacher.probabilities, copy_origins, p["distillWeight"])
    outcome = train(model, (train_ids, train_labels), (encoded["valid"], splits["valid"].labels),
                    weights, setup, stop, resume)
    if outcome.interrupted_by:
        return outcome.interrupted_by
    finish(job, model, outcome, setup, encoded["test"] if len(encoded["test"]) else encoded["valid"], pretrained, teacher,
           warm_start)
    if stop.requested:
        log(f"{stop.name} arrived after training finished; the outputs are complete")
    return None


def finish(job: JobConfig, model, outcome: Outcome, setup: Setup, held_out, pretrained: PretrainOutcome | None,
           teacher: Teacher | None, warm_start: dict | None = None) -> None:
    out, state = job.out_dir, outcome.state
    if setup.progress is not None:
        setup.progress.phase("exporting")
    best = out / "checkpoints" / checkpoint.BEST
    if best.is_file():
        model.load_state_dict(torch.load(best, map_location="cpu", weights_only=True))
    model = model.float().cpu().eval()
    torch_save(out / "model.pt", model_artifact(model, job.params, job.labels, setup.pad_id))
    write_json(out / "labels.json", job.labels)

    export_onnx(model, out / "model.onnx", setup.pad_id)
    parity = check_parity(model, out / "model.onnx", held_out, setup.pad_id, job.params["maxLength"])
    log(f"onnx parity max_abs_logit_diff {parity['max_abs_logit_diff']:.2e} label_agreement "
        f"{parity['label_agreement']:.4f} n {parity['n']}")
    quantize_int8(out / PRECISION_FILES["fp32"], out / PRECISION_FILES["int8"])
    int8 = compare_int8(out / PRECISION_FILES["fp32"], out / PRECISION_FILES["int8"], held_out, setup.pad_id)
    log(f"onnx int8 label_agreement {int8['label_agreement']:.4f} with fp32, {int8['bytes_int8']} bytes "
        f"({int8['bytes_int8'] / int8['bytes_fp32']:.2f}x fp32)")
    # Which file the deployment serves, inside the run folder so its manifest (what the auditor
    # approves) covers the choice as well as both files.
    write_json(out / DEPLOY_FILE, {"precision": job.serving_precision, "file": PRECISION_FILES[job.serving_precision]})
    best_summary = {"epoch": state.best_epoch, "val_macro_f1": state.best_score, "val_accuracy": state.best_accuracy}
    if state.averaged is not None and state.averaged["kept"]:  # the exported weights are that average
        best_summary["averaged_epochs"] = state.averaged["epochs"]
    metrics = {
        "history": state.history,
        "steps": bounded_steps(state.steps),
        "best": best_summary,
        "stopped_early": state.stopped_early,
        "averaged": state.averaged,
        "device": setup.device.type,
        "precision": setup.precision,
        "params": job.params,
        "onnx_parity": parity,
        "onnx_int8": int8,
        "trial": job.trial,
        "train_seconds": round(state.train_seconds, 3),
        # Masked-language-model pretraining before fine-tuning (mlmEpochs): its curve and time, apart.
        "pretrain": None if pretrained is None else {"history": pretrained.history, "seconds": round(pretrained.seconds, 3)},
        # The distillation teacher (distillWeight): what it was, how well it did out of fold, its time.
        "teacher": None if teacher is None else teacher.summary(),
        # The earlier version this run started from (initFrom), or None when it started from scratch.
        "warm_start": warm_start,
        "code": {"git_commit": code_commit()},
        # Lineage for the audit package: where and with what the job ran.
        "node": os.environ.get("SLURMD_NODENAME") or socket.gethostname(),
        "slurm": {"job_id": os.environ.get("SLURM_JOB_ID"), "array_task_id": os.environ.get("SLURM_ARRAY_TASK_ID")},
        "versions": runtime_versions(),
    }
    write_json(out / "metrics.json", metrics)  # written even when parity fails: the numbers explain why
    assert_parity(parity)
    # Last: DONE vouches for every file above.
    write_json(out / "DONE", {"status": "done", "config_hash": job.full_hash(), "best": best_summary,
                              "epochs_trained": state.epoch, "stopped_early": state.stopped_early,
                              "onnx_parity": parity, "trial": job.trial, "train_seconds": metrics["train_seconds"]})
    kept = best_summary.get("averaged_epochs")
    which = f"the average of epochs {kept[0]}-{kept[-1]}" if kept else f"best epoch {state.best_epoch}"
    log(f"done: {which} val_macro_f1 {state.best_score:.4f} val_acc {state.best_accuracy:.4f}; outputs in {out}")
