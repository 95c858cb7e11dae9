"""Knowledge distillation from a lexical teacher (param `distillWeight`).

The teacher is the baseline the demo's model is measured against (bench/tfidf-baseline.py),
character 1-3-gram TF-IDF and a logistic regression, fitted with class-balanced weights. It reads
the text differently from a small transformer trained from scratch (every character n-gram at
once, where the student sees BPE tokens through attention), so its probabilities carry what
one-hot labels cannot: how neutral a "neg" message looks, which statements read like questions.
Balanced, because what the student lacks is the rare classes: the unweighted baseline's teacher
(C=4) made the student more accurate but no better on macro-F1, as it calls nearly every question
neutral (q recall 0.10); the balanced one (q recall 0.55) lifted both (bench/recipe.md). The
student is trained on the mixture

    target = (1 - distillWeight) * one_hot(label) + distillWeight * teacher_probabilities

(cross-entropy against a mixture is the usual distillation loss at temperature 1, and label
smoothing is the case of a uniform teacher).

Out of fold: each training row's probabilities come from a teacher fitted on the other folds, so
they say what the teacher generalizes, not what it learned by heart (a teacher scored on its own
training rows is nearly one-hot again). An augmented copy of a rare-class row takes its original's
probabilities. The probabilities are saved beside the checkpoints, so a requeued job reads them
back instead of fitting the teacher again; the fit is deterministic, so either way they are the same.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError
from .outputs import log, torch_save

FOLDS = 5
TEACHER_FILE = "teacher.pt"


@dataclass
class Teacher:
    probabilities: np.ndarray  # (training rows, labels), out of fold
    folds: int
    oof_accuracy: float
    seconds: float

    def summary(self) -> dict:
        return {"kind": "char 1-3-gram tf-idf + class-balanced logistic regression", "folds": self.folds,
                "oof_accuracy": round(self.oof_accuracy, 4), "seconds": round(self.seconds, 3)}


# The teacher's logistic regression: the baseline's, with class-balanced weights and C 1 (more
# regularized than the baseline's C 4): of the teachers tried, the one whose student had the best
# macro-F1 (bench/recipe.md).
TEACHER_CLASSIFIER = {"C": 1.0, "class_weight": "balanced"}


# The baseline's TF-IDF settings apart from the analyzer, which the teacher swaps for a cached one.
TFIDF_WEIGHTING = {"min_df": 2, "sublinear_tf": True, "max_features": 200_000}


def tfidf_features(analyzer=None):
    """The baseline's features, which the teacher shares (bench/tfidf-baseline.py builds both from
    here): Thai has no spaces between words, so character n-grams stand in for them. `analyzer`
    replaces the n-gram analysis with a callable giving a document's n-grams (the same ones)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if analyzer is not None:
        return TfidfVectorizer(analyzer=analyzer, **TFIDF_WEIGHTING)
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), **TFIDF_WEIGHTING)


def _fit_and_predict(fit_docs: list, train_labels: np.ndarray, docs: list, num_labels: int, analyzer=None) -> np.ndarray:
    """A teacher fitted on `fit_docs` and its probabilities for `docs`: texts, or with `analyzer`
    whatever it reads (out_of_fold passes row numbers)."""
    from sklearn.linear_model import LogisticRegression

    vectorizer = tfidf_features(analyzer)
    model = LogisticRegression(max_iter=2000, **TEACHER_CLASSIFIER)
    model.fit(vectorizer.fit_transform(fit_docs), train_labels)
    out = np.zeros((len(docs), num_labels), dtype=np.float32)
    out[:, model.classes_] = model.predict_proba(vectorizer.transform(docs))  # a label absent from a fold gets 0
    return out


def out_of_fold(texts: list[str], labels: np.ndarray, num_labels: int, seed: int) -> Teacher:
    try:
        from sklearn.model_selection import StratifiedKFold
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise ConfigError("params.distillWeight needs scikit-learn in the training environment "
                          "(pip install -r slurm/requirements.txt), or set distillWeight to 0") from None
    started = time.monotonic()
    # Each text's n-grams once, not once per fold; rows are passed by number and looked up, so the
    # features are exactly the analyzer's.
    grams = [tfidf_features().build_analyzer()(text) for text in texts]
    probabilities = np.zeros((len(texts), num_labels), dtype=np.float32)
    # Stratified, so the rare class is in every fold; a tiny split is folded only as far as its
    # rarest class allows (down to 2), so each fold still holds some of its rows.
    counts = np.bincount(labels, minlength=num_labels)
    folds = max(2, min(FOLDS, int(counts[counts > 0].min())))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    # One BLAS thread: the solver's vectors are too small to share, and on two cores a second thread
    # made the fit twice as slow. It also keeps the probabilities from depending on the core count,
    # which a thread per core would make the order of the sums do. (Folds fitted in two
    # processes were only 13 % faster on two cores: the fit is bound by memory, not by the CPU.)
    with threadpool_limits(limits=1, user_api="blas"):
        for fit_rows, held_rows in splitter.split(np.zeros(len(labels)), labels):
            probabilities[held_rows] = _fit_and_predict(list(fit_rows), labels[fit_rows], list(held_rows), num_labels,
                                                        analyzer=grams.__getitem__)
    accuracy = float((probabilities.argmax(axis=1) == labels).mean())
    return Teacher(probabilities, folds, accuracy, time.monotonic() - started)


def load_or_fit(texts: list[str], labels: np.ndarray, num_labels: int, seed: int, checkpoint_dir: Path,
                fingerprint: str) -> Teacher:
    import torch

    path = checkpoint_dir / TEACHER_FILE
    if path.is_file():
        saved = torch.load(path, map_location="cpu", weights_only=True)
        if saved.get("fingerprint") == fingerprint and len(saved["probabilities"]) == len(texts):
            log(f"distillation teacher read back from {path}")
            return Teacher(saved["probabilities"].numpy(), int(saved["folds"]), float(saved["oof_accuracy"]),
                           float(saved["seconds"]))
    teacher = out_of_fold(texts, labels, num_labels, seed)
    log(f"distillation teacher: {teacher.folds}-fold tf-idf + class-balanced logistic regression, out-of-fold accuracy "
        f"{teacher.oof_accuracy:.4f} in {teacher.seconds:.1f}s")
    torch_save(path, {"fingerprint": fingerprint, "probabilities": torch.from_numpy(teacher.probabilities),
                      "folds": teacher.folds, "oof_accuracy": teacher.oof_accuracy, "seconds": teacher.seconds})
    return teacher


def soft_targets(labels: np.ndarray, teacher: np.ndarray, origins: np.ndarray, weight: float) -> np.ndarray:
    """The training targets: rows of the split first, then their augmented copies (each with its
    original's teacher probabilities), as float32 (rows, labels) summing to 1."""
    per_row = np.concatenate([teacher, teacher[origins]]) if len(origins) else teacher
    one_hot = np.eye(teacher.shape[1], dtype=np.float32)[labels]
    return ((1 - weight) * one_hot + weight * per_row).astype(np.float32)
