"""Seeded augmentation of the training split (never valid or test, so the numbers stay honest).

Two levels, each switched by a param and recorded with the run's params:
- rareClassCopies: every row of a rare class (under RARE_SHARE of the rows; `q` in Wisesight, 2 %)
  gets that many extra copies, each cut to its last phrases half the time and given
  social-media variations a reader would not count as a different message (polite particle,
  laughter, emoji, question mark). Oversampling the class
  with variations instead of weighting its loss: the model sees more ways of asking, not the same
  46 questions 25 times louder (class weights cost accuracy, bench/recipe.md).
- tokenDropout / tokenSwap: every epoch, each token of a training row is dropped, or swapped with
  its neighbour, with that probability, so no epoch sees exactly the same row twice.
Both are pure functions of (seed, row, epoch): a resumed run sees the same rows as an unbroken one.
Texts here are already normalized (preprocess ran normalizeText), so the variations keep to its
forms: laughter is "555", never longer; an emoji or "?" is added only where there is none.
"""
from __future__ import annotations

import re

import numpy as np

from .data import Encoded, Split, TokenDataset, encode

# Rarer than this share of the training rows is a rare class.
RARE_SHARE = 0.05
# Sentence-final particles that make a message polite (ครับ male, ค่ะ/คะ female, จ้า casual); which
# one a writer uses says nothing about sentiment or whether it is a question. Only where a phrase
# ends: "นะ" and "คับ" are left out, as they also end ordinary words (ชนะ, บังคับ).
PARTICLES = ("ครับ", "ค่ะ", "คะ", "จ้า")
PARTICLE_AT_END = re.compile(f"({'|'.join(PARTICLES)})(?=$|[ ?!.])")
EMOJI = ("😊", "😂", "🙏", "😍", "🤔", "😅")
LAUGHTER = "555"


def rare_classes(labels: np.ndarray, num_labels: int) -> list[int]:
    counts = np.bincount(labels, minlength=num_labels)
    return [c for c in range(num_labels) if 0 < counts[c] < RARE_SHARE * len(labels)]


def _swap_particle(text: str, rng: np.random.Generator) -> str:
    found = list(PARTICLE_AT_END.finditer(text))
    if not found:
        return text + str(rng.choice(PARTICLES))
    old = found[int(rng.integers(len(found)))]
    new = str(rng.choice([p for p in PARTICLES if p != old.group(1)]))
    return text[:old.start()] + new + text[old.end():]


def _toggle_laughter(text: str, rng: np.random.Generator) -> str:
    if text.endswith(("5", "๕")):
        before = text.rstrip("5๕")
        if text.endswith(LAUGHTER) and not before[-1:].isdigit():
            return before.rstrip() or text
        return text  # a number ("โทร 1555") or a short laugh: adding or cutting 5s changes what it says
    return text + " " + LAUGHTER


def _toggle_emoji(text: str, rng: np.random.Generator) -> str:
    kept = "".join(ch for ch in text if ch not in EMOJI).rstrip()
    if kept != text.rstrip() and kept:
        return kept
    return text + str(rng.choice(EMOJI))


def _toggle_question_mark(text: str, rng: np.random.Generator) -> str:
    if text.endswith("?"):
        return text.rstrip("?").rstrip() or text
    return text + "?"


def _last_phrases(text: str, rng: np.random.Generator) -> str:
    """The message's last few space-separated phrases. Thai puts question words and particles at the
    end ("... สูบไปมีผลอะไรไหมครับ"), so the ending of a question is a short question of its own:
    without this, the model learns the rare class's long messages by heart (their copies are
    nearly identical) and still calls a short new question neutral."""
    phrases = text.split(" ")
    # Up to the last phrase with a letter in it: "ส่งฟรีไหม 555" must not become "555".
    last_words = max((i for i, p in enumerate(phrases) if any(c.isalpha() for c in p)), default=0)
    if last_words == 0:
        return text
    return " ".join(phrases[int(rng.integers(1, last_words + 1)):])


VARIATIONS = (_swap_particle, _toggle_laughter, _toggle_emoji, _toggle_question_mark)
CROP_CHANCE = 0.5


def vary_text(text: str, rng: np.random.Generator) -> str:
    """Half the time the last phrases only; then one or two surface variations, chosen by `rng`."""
    if rng.random() < CROP_CHANCE:
        text = _last_phrases(text, rng)
    for i in rng.choice(len(VARIATIONS), size=int(rng.integers(1, 3)), replace=False):
        text = VARIATIONS[i](text, rng)
    return text


def rare_copy_origins(labels: np.ndarray, num_labels: int, copies: int) -> np.ndarray:
    """For each extra row rare_class_copies makes, in its order, the training row it is a copy of."""
    rows = [np.repeat(np.flatnonzero(labels == c), copies) for c in rare_classes(labels, num_labels)] if copies else []
    return np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, dtype=np.int64)


def rare_class_copies(split: Split, num_labels: int, copies: int, seed: int) -> tuple[Split, np.ndarray]:
    """The extra rows only (texts varied, labels kept), in a fixed order for a given seed, and for
    each the training row it copies."""
    rng = np.random.default_rng([seed, 7919])
    origins = rare_copy_origins(split.labels, num_labels, copies)
    texts = [vary_text(split.texts[i], rng) for i in origins]
    return Split(texts, split.labels[origins].astype(np.int64)), origins


def concat(a: Encoded, b: Encoded) -> Encoded:
    return Encoded(np.concatenate([a.ids, b.ids]), np.concatenate([a.offsets, a.offsets[-1] + b.offsets[1:]]))


def with_rare_copies(tokenizer, split: Split, encoded: Encoded, num_labels: int, params: dict) -> tuple[Encoded, np.ndarray, np.ndarray]:
    """The training rows plus their augmented copies (tokenized here: the cache holds the split as
    preprocess wrote it). Returns the ids, the labels and, for each copy, the row it copies."""
    extra, origins = rare_class_copies(split, num_labels, params["rareClassCopies"], params["seed"])
    if not extra.texts:
        return encoded, split.labels, origins
    return (concat(encoded, encode(tokenizer, extra.texts, params["maxLength"])),
            np.concatenate([split.labels, extra.labels]), origins)


def corrupt_ids(ids: np.ndarray, rng: np.random.Generator, dropout: float, swap: float) -> np.ndarray:
    """Token dropout and neighbour swaps inside <s> ... </s> (the first and last ids stay where they
    are). At least one inner token survives, so no row becomes empty."""
    inner = ids[1:-1]
    if len(inner) < 2 or (dropout == 0 and swap == 0):
        return ids
    if dropout:
        keep = rng.random(len(inner)) >= dropout
        if not keep.any():
            keep[int(rng.integers(len(inner)))] = True
        inner = inner[keep]
    if swap and len(inner) >= 2:
        inner = inner.copy()
        for j in np.flatnonzero(rng.random(len(inner) - 1) < swap):
            inner[j], inner[j + 1] = inner[j + 1], inner[j]
    return np.concatenate([ids[:1], inner, ids[-1:]])


class AugmentedRows(TokenDataset):
    """The training rows as one epoch sees them: each row corrupted by its own generator, seeded by
    (seed, epoch, row), so the result does not depend on which DataLoader worker reads it."""

    def __init__(self, encoded: Encoded, labels: np.ndarray, params: dict, epoch: int):
        super().__init__(encoded, labels)
        self.seed, self.epoch = params["seed"], epoch
        self.dropout, self.swap = params["tokenDropout"], params["tokenSwap"]

    def __getitem__(self, i: int) -> tuple[np.ndarray, int | np.ndarray]:
        ids, label = super().__getitem__(i)
        return corrupt_ids(ids, np.random.default_rng([self.seed, self.epoch, i]), self.dropout, self.swap), label
