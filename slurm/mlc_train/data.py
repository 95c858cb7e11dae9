"""Reading the splits, the on-disk tokenization cache, and length-bucketed batching."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from .errors import DataError
from .outputs import log, sha256_json, torch_save, warn

SPLITS = ("train", "valid", "test")


@dataclass
class Split:
    texts: list[str]
    labels: np.ndarray  # label indices into the config's label list


def read_split(path: Path, label_index: dict[str, int]) -> Split:
    if not path.is_file():
        raise DataError(f"data file not found: {path} (DATA_DIR must hold {', '.join(s + '.jsonl' for s in SPLITS)})")
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}:{n}: not valid JSON ({e})") from None
            text, label = (row.get("text"), row.get("label")) if isinstance(row, dict) else (None, None)
            if not isinstance(text, str) or not isinstance(label, str):
                raise DataError(f'{path}:{n}: each line must be {{"text": str, "label": str}}')
            if label not in label_index:
                raise DataError(f"{path}:{n}: label {label!r} is not one of the config's labels {list(label_index)}")
            texts.append(text)
            labels.append(label_index[label])
    return Split(texts, np.asarray(labels, dtype=np.int64))


def read_splits(data_dir: Path, labels: Sequence[str]) -> dict[str, Split]:
    index = {label: i for i, label in enumerate(labels)}
    splits = {name: read_split(data_dir / f"{name}.jsonl", index) for name in SPLITS}
    for name in ("train", "valid"):
        if not splits[name].texts:
            raise DataError(f"{data_dir / (name + '.jsonl')} has no rows")
    return splits


# --- tokenization cache -------------------------------------------------------------------------

@dataclass
class Encoded:
    """Token ids of one split, stored flat (ids + offsets) so the cache is a few tensors, not lists."""

    ids: np.ndarray
    offsets: np.ndarray  # len(rows) + 1

    @classmethod
    def from_lists(cls, rows: list[list[int]]) -> "Encoded":
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        ids = np.fromiter((t for r in rows for t in r), dtype=np.int32, count=int(offsets[-1]))
        return cls(ids, offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def row(self, i: int) -> np.ndarray:
        return self.ids[self.offsets[i]:self.offsets[i + 1]]

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def encode(tokenizer, texts: list[str], max_length: int) -> Encoded:
    ids = tokenizer(texts, truncation=True, max_length=max_length, add_special_tokens=True)["input_ids"] if texts else []
    return Encoded.from_lists(ids)


def tokenize_cached(tokenizer, tokenizer_sha: str, splits: dict[str, Split], dataset_hash: str,
                    max_length: int, cache_dir: Path) -> tuple[dict[str, Encoded], bool]:
    """Returns the encoded splits and whether they came from the cache. The key covers everything the
    ids depend on: the data (by the hash the submitter computed), the tokenizer's bytes, the length."""
    key = sha256_json({"v": 1, "datasetHash": dataset_hash, "tokenizer": tokenizer_sha, "maxLength": max_length})
    path = cache_dir / f"tokens-{key[:32]}.pt"
    if path.is_file():
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
            encoded = {name: Encoded(blob[name]["ids"].numpy(), blob[name]["offsets"].numpy()) for name in SPLITS}
            if all(len(encoded[n]) == len(splits[n].texts) for n in SPLITS):
                log(f"tokenization cache hit ({path})")
                return encoded, True
            warn(f"tokenization cache {path} does not match the data's row counts; was datasetHash reused? Re-tokenizing.")
        except Exception as e:  # a torn or foreign file must not sink the job; re-tokenizing is cheap
            warn(f"tokenization cache {path} unreadable ({e}); re-tokenizing")
    log(f"tokenization cache miss; tokenizing into {path}")
    encoded = {name: encode(tokenizer, splits[name].texts, max_length) for name in SPLITS}
    try:
        torch_save(path, {n: {"ids": torch.from_numpy(e.ids), "offsets": torch.from_numpy(e.offsets)} for n, e in encoded.items()})
    except OSError as e:  # a read-only or full cache only costs time, never the run
        warn(f"could not write tokenization cache {path}: {e}")
    return encoded, False


# --- batching -----------------------------------------------------------------------------------

class TokenDataset(torch.utils.data.Dataset):
    def __init__(self, encoded: Encoded, labels: np.ndarray):
        self.encoded, self.labels = encoded, labels

    def __len__(self) -> int:
        return len(self.encoded)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int | np.ndarray]:
        # A label index, or a row of soft targets (probabilities over the labels) when distilling.
        label = self.labels[i]
        return self.encoded.row(i), (label if self.labels.ndim == 2 else int(label))


class PadCollator:
    """Pads each batch only to its own longest row (dynamic padding); a class so workers can pickle it."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, batch: list[tuple[np.ndarray, int]]) -> dict[str, torch.Tensor]:
        width = max(len(ids) for ids, _ in batch)
        input_ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for r, (ids, _) in enumerate(batch):
            input_ids[r, :len(ids)] = torch.from_numpy(ids.astype(np.int64))
            mask[r, :len(ids)] = 1
        return {"input_ids": input_ids, "attention_mask": mask,
                "labels": torch.from_numpy(np.asarray([label for _, label in batch]))}


class BucketBatchSampler(torch.utils.data.Sampler):
    """Shuffles, then sorts by length inside chunks of `chunk_batches` batches, so batches hold rows of
    similar length (little padding) while the epoch order stays random. The order is a pure function
    of (seed, epoch), which is what lets a resumed job skip exactly the batches it already trained on."""

    def __init__(self, lengths: np.ndarray, batch_size: int, seed: int, epoch: int, start: int = 0,
                 chunk_batches: int = 50):
        rng = np.random.default_rng([seed, epoch])
        order = rng.permutation(len(lengths))
        chunk = batch_size * chunk_batches
        batches: list[list[int]] = []
        for c in range(0, len(order), chunk):
            part = order[c:c + chunk]
            part = part[np.argsort(lengths[part], kind="stable")]
            batches.extend(part[b:b + batch_size].tolist() for b in range(0, len(part), batch_size))
        self.batches = [batches[i] for i in rng.permutation(len(batches))]
        self.start = start

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches[self.start:])

    def __len__(self) -> int:
        return len(self.batches) - self.start


def eval_batches(lengths: np.ndarray, batch_size: int) -> list[list[int]]:
    """Evaluation needs no randomness: sort by length for the least padding."""
    order = np.argsort(lengths, kind="stable").tolist()
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
