"""Warm start (the config's `initFrom`): a retrain that continues from an earlier version's weights
and tokenizer instead of from random ones, as SageMaker's incremental training does. A retrain
after drift has the old data plus some feedback rows; the deployed version already knows the old
data, so an epoch or two from its weights costs a fraction of training from scratch.

The earlier version fixes the architecture and the vocabulary: its tokenizer is reused (a new one
would renumber every token its embeddings learned), and the params must describe the same model.
"""
from __future__ import annotations

from pathlib import Path

from .errors import ConfigError
from .outputs import sha256_file

MODEL_FILE = "model.pt"
TOKENIZER_FILE = "tokenizer.json"
# What must match between the params and the earlier version's, for its weights to fit. The
# tokenizer's two are reused from the earlier folder whatever the params say, so a change to them
# would be ignored without a word: refused instead. domain/spec.ts refuses the same list in a spec's
# retrain.params (warmStartFixed; test_params_contract.py holds the two lists together).
ARCHITECTURE = ("hiddenSize", "numLayers", "numHeads", "intermediateSize", "lstmHidden", "maxLength",
                "vocabSize", "preTokenizer")


def check_folder(folder: Path) -> None:
    for needed in (MODEL_FILE, TOKENIZER_FILE):
        if not (folder / needed).is_file():
            raise ConfigError(f"initFrom: {folder / needed} not found; a warm start needs an earlier run's folder with "
                              f"{MODEL_FILE} and {TOKENIZER_FILE} (or retrain from scratch: training.retrain.from: scratch)")


def load_weights(model, folder: Path, labels: list[str], params: dict) -> dict:
    """Loads the earlier version's weights into `model` (built from `params` and its tokenizer);
    returns what metrics.json records about the warm start."""
    import torch

    blob = torch.load(folder / MODEL_FILE, map_location="cpu", weights_only=True)
    if list(blob["labels"]) != list(labels):
        raise ConfigError(f"initFrom: {folder} was trained on labels {blob['labels']}, this run on {labels}; a warm start "
                          "needs the same labels in the same order (retrain from scratch: training.retrain.from: scratch)")
    earlier = blob.get("params", {})
    differ = [f"{k} {params[k]} (earlier {earlier[k]})" for k in ARCHITECTURE if k in earlier and earlier[k] != params[k]]
    if differ:
        raise ConfigError(f"initFrom: a warm start keeps {folder.name}'s architecture, but params change it: "
                          f"{', '.join(differ)}; set them back, or retrain from scratch (training.retrain.from: scratch)")
    _check_shapes(model.state_dict(), blob["state_dict"], folder)
    model.load_state_dict(blob["state_dict"])
    return {"from": str(folder), "model_sha256": sha256_file(folder / MODEL_FILE)}


def _check_shapes(built: dict, earlier: dict, folder: Path) -> None:
    """The params can agree while the encoders differ: a version fine-tuned from a pretrainedDir has
    that encoder's shape, not the params'. Named here, rather than as PyTorch's size-mismatch trace."""
    differ = [f"{k} {tuple(earlier[k].shape)} (this run {tuple(v.shape)})" for k, v in built.items()
              if k in earlier and earlier[k].shape != v.shape]
    differ += [f"{k} only in this run" for k in built if k not in earlier]
    differ += [f"{k} only in {folder.name}" for k in earlier if k not in built]
    if differ:
        more = f" and {len(differ) - 3} more" if len(differ) > 3 else ""
        raise ConfigError(f"initFrom: {folder.name}'s weights do not fit the model this run builds: {'; '.join(differ[:3])}{more}. "
                          "A warm start needs the earlier version's encoder: the same pretrainedDir (or none) and "
                          "architecture; or retrain from scratch (training.retrain.from: scratch)")
