"""CONFIG.json and TRIALS.json: parsed and checked before torch is imported, so a bad field fails in
a second with a message naming it (exit 2) instead of after the job has waited in the queue and
loaded its libraries. Ranges mirror `trainingParamsSchema` in domain/spec.ts."""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import ConfigError
from .outputs import sha256_json
from .warm_start import check_folder

# name -> (default, check). A check returns an error message or None.
Check = Callable[[Any], "str | None"]


def _int(lo: int, hi: float = math.inf) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int):
            return f"must be an integer, got {v!r}"
        if not lo <= v <= hi:
            return f"must be between {lo} and {hi}, got {v}" if hi != math.inf else f"must be ≥ {lo}, got {v}"
        return None

    return check


def _num(lo: float, hi: float, lo_open: bool = False) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return f"must be a number, got {v!r}"
        if (v <= lo if lo_open else v < lo) or v > hi:
            return f"must be in {'(' if lo_open else '['}{lo}, {hi}], got {v}"
        return None

    return check


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else f"must be true or false, got {v!r}"


def _choice(*options: str) -> Check:
    return lambda v: None if v in options else f"must be one of {', '.join(options)}; got {v!r}"


PARAMS: dict[str, tuple[Any, Check]] = {
    "epochs": (3, _int(1, 1000)),
    "batchSize": (32, _int(1, 4096)),
    "learningRate": (5e-4, _num(0, 1, lo_open=True)),
    "maxLength": (64, _int(8, 512)),
    "warmupRatio": (0.1, _num(0, 0.5)),
    "weightDecay": (0.01, _num(0, 1)),
    "gradClip": (1.0, _num(0, math.inf, lo_open=True)),
    "patience": (2, _int(1)),
    "seed": (13, _int(0)),
    "hiddenSize": (64, _int(8)),
    "numLayers": (2, _int(1, 48)),
    "numHeads": (2, _int(1, 64)),
    "intermediateSize": (128, _int(8)),
    "vocabSize": (3000, _int(300, 250_000)),
    "lstmHidden": (64, _int(4)),
    "dropout": (0.1, _num(0, 0.9)),
    "classWeights": (True, _bool),
    "classWeightPower": (1.0, _num(0, 1)),
    "precision": ("auto", _choice("auto", "fp32", "bf16", "fp16")),
    "numWorkers": (1, _int(0, 64)),
    "checkpointEverySteps": (200, _int(1)),
    # The recipe's levers (bench/recipe.md); each default leaves training as it was before it existed.
    "preTokenizer": ("gpt2", _choice("gpt2", "letters-with-marks")),
    "labelSmoothing": (0.0, _num(0, 0.5)),
    "emaDecay": (0.0, _num(0, 0.9999)),
    "tokenDropout": (0.0, _num(0, 0.5)),
    "tokenSwap": (0.0, _num(0, 0.5)),
    "rareClassCopies": (0, _int(0, 20)),
    "averageEpochs": (1, _int(1, 20)),
    "mlmEpochs": (0, _int(0, 100)),
    "mlmProbability": (0.15, _num(0.01, 0.5)),
    "mlmBatchSize": (64, _int(1, 4096)),
    "mlmLearningRate": (2e-3, _num(0, 1, lo_open=True)),
    "distillWeight": (0.0, _num(0, 0.9)),
}

# Params that may change between an interrupted run and its resumption without invalidating the
# checkpoint: more epochs continue training, the rest do not touch the weights' trajectory so far.
RESUMABLE_CHANGES = frozenset({"epochs", "patience", "numWorkers", "checkpointEverySteps", "precision"})

TOP_LEVEL = ("labels", "datasetHash", "pretrainedDir", "initFrom", "params", "serving")
# Which exported ONNX file is deployed (the spec's serving.precision); absent means fp32.
SERVING_PRECISIONS = ("fp32", "int8")


@dataclass(frozen=True)
class JobConfig:
    labels: list[str]
    dataset_hash: str
    pretrained_dir: Path | None
    params: dict[str, Any]
    trial: int | None
    out_dir: Path  # where this job (or trial) writes its outputs
    base_out_dir: Path  # OUT_DIR as given; trial-<i>/ lives under it
    cache_dir: Path
    data_dir: Path
    serving_precision: str = "fp32"
    init_from: Path | None = None  # warm start: an earlier run's folder (mlc_train/warm_start.py)

    def fingerprint(self) -> str:
        """Identifies the training run a checkpoint belongs to (resume only onto the same run)."""
        run = {
            "format": 1,
            "labels": self.labels,
            "datasetHash": self.dataset_hash,
            "pretrainedDir": str(self.pretrained_dir) if self.pretrained_dir else None,
            "params": {k: v for k, v in self.params.items() if k not in RESUMABLE_CHANGES},
        }
        if self.init_from is not None:  # only when set, so checkpoints written before it existed still match
            run["initFrom"] = str(self.init_from)
        return sha256_json(run)

    def full_hash(self) -> str:
        """Identifies the whole request; a DONE marker with the same hash means nothing is left to do."""
        request = {"fingerprint": self.fingerprint(), "params": self.params, "trial": self.trial}
        if self.serving_precision != "fp32":  # only when set, so runs finished before it existed stay done
            request["servingPrecision"] = self.serving_precision
        return sha256_json(request)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} file not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{what} file {path} is not valid JSON: {e}") from None


def resolve_params(overrides: Mapping[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(overrides, Mapping):
        raise ConfigError(f"{where}: must be a JSON object, got {type(overrides).__name__}")
    for key in overrides:
        if key not in PARAMS:
            raise ConfigError(f"{where}.{key}: unknown parameter (known: {', '.join(PARAMS)})")
    params = {k: overrides.get(k, default) for k, (default, _) in PARAMS.items()}
    for key, value in params.items():
        problem = PARAMS[key][1](value)
        if problem:
            raise ConfigError(f"{where}.{key}: {problem}")
    if params["hiddenSize"] % params["numHeads"]:
        raise ConfigError(f"{where}.numHeads: hiddenSize ({params['hiddenSize']}) must be divisible by numHeads ({params['numHeads']})")
    return params


def _pick_trial(trials_path: Path, env: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    raw_id = env.get("SLURM_ARRAY_TASK_ID")
    if raw_id is None or raw_id == "":
        raise ConfigError("--trials needs SLURM_ARRAY_TASK_ID to pick a trial; submit with `sbatch --array=0-N` "
                          "(or set SLURM_ARRAY_TASK_ID=i to run trial i by hand)")
    trials = _read_json(trials_path, "--trials")
    if not isinstance(trials, list) or not trials:
        raise ConfigError(f"--trials {trials_path}: must be a non-empty JSON array of parameter objects")
    try:
        index = int(raw_id)
    except ValueError:
        raise ConfigError(f"SLURM_ARRAY_TASK_ID must be an integer, got {raw_id!r}") from None
    if not 0 <= index < len(trials):
        raise ConfigError(f"SLURM_ARRAY_TASK_ID={index} is outside --trials {trials_path} (indices 0..{len(trials) - 1})")
    if not isinstance(trials[index], dict):
        raise ConfigError(f"trials[{index}]: must be a JSON object of parameter overrides")
    return index, trials[index]


def load_job_config(config_path: Path, data_dir: Path, out_dir: Path, cache_dir: Path | None,
                    trials_path: Path | None, env: Mapping[str, str] = os.environ) -> JobConfig:
    out_dir, data_dir = out_dir.resolve(), data_dir.resolve()
    cache_dir = cache_dir.resolve() if cache_dir is not None else None
    raw = _read_json(config_path, "--config")
    if not isinstance(raw, dict):
        raise ConfigError(f"--config {config_path}: must be a JSON object")
    for key in raw:
        if key not in TOP_LEVEL:
            raise ConfigError(f"{key}: unknown config field (known: {', '.join(TOP_LEVEL)})")

    labels = raw.get("labels")
    if (not isinstance(labels, list) or len(labels) < 2
            or not all(isinstance(x, str) and x for x in labels)):
        raise ConfigError(f"labels: must be a list of at least two non-empty strings, got {labels!r}")
    if len(set(labels)) != len(labels):
        raise ConfigError(f"labels: must be unique, got {labels!r}")

    dataset_hash = raw.get("datasetHash")
    if not isinstance(dataset_hash, str) or not dataset_hash:
        raise ConfigError(f"datasetHash: must be a non-empty string (the dataset's sha256), got {dataset_hash!r}")

    pretrained = raw.get("pretrainedDir")
    pretrained_dir: Path | None = None
    if pretrained is not None:
        if not isinstance(pretrained, str) or not os.path.isabs(pretrained):
            raise ConfigError(f"pretrainedDir: must be null or an absolute path, got {pretrained!r}")
        pretrained_dir = Path(pretrained)
        for needed in ("config.json", "tokenizer.json"):
            if not (pretrained_dir / needed).is_file():
                raise ConfigError(f"pretrainedDir: {pretrained_dir / needed} not found (a local RoBERTa folder "
                                  "needs config.json, weights and tokenizer.json; hub ids are not accepted)")

    init_from = raw.get("initFrom")
    if init_from is not None:
        if not isinstance(init_from, str) or not init_from:
            raise ConfigError(f"initFrom: must be null or a run folder's path (absolute, or relative to --out-dir), got {init_from!r}")
        # Relative to this run's folder: the lifecycle names an earlier run of the same model, its sibling.
        init_from = (out_dir / init_from).resolve()
        check_folder(init_from)

    serving = raw.get("serving", {})
    precision = serving.get("precision", "fp32") if isinstance(serving, dict) else None
    if precision not in SERVING_PRECISIONS or set(serving) - {"precision"}:
        raise ConfigError(f"serving: must be {{\"precision\": \"fp32\" | \"int8\"}} (which exported ONNX file is "
                          f"deployed), got {serving!r}")

    params = resolve_params(raw.get("params", {}), "params")
    trial = None
    target = out_dir
    if trials_path is not None:
        trial, overrides = _pick_trial(trials_path, env)
        params = resolve_params({**raw.get("params", {}), **overrides}, f"trials[{trial}]")
        target = out_dir / f"trial-{trial}"

    # Shared by every version and trial of the model, so reruns and array tasks tokenize once.
    cache = cache_dir if cache_dir is not None else out_dir.parent / ".cache"
    return JobConfig(labels=labels, dataset_hash=dataset_hash, pretrained_dir=pretrained_dir, params=params,
                     trial=trial, out_dir=target, base_out_dir=out_dir, cache_dir=cache, data_dir=data_dir,
                     serving_precision=precision, init_from=init_from)
