"""distillWeight: the TF-IDF teacher's probabilities are out of fold, mixed into the targets as the
param says, carried to the augmented copies, saved for a requeued job, and recorded."""
import json
import random

import numpy as np
import pytest

from conftest import run_job, write_config
from mlc_train import teacher as teacher_module
from mlc_train.teacher import load_or_fit, out_of_fold, soft_targets


def corpus(n_per_label: int = 40) -> tuple[list[str], np.ndarray]:
    words = {0: "แย่มาก ผิดหวัง", 1: "วันนี้ประกาศ ข่าว", 2: "อร่อยมาก ชอบ", 3: "ราคาเท่าไหร่ ไหมคะ"}
    texts, labels = [], []
    for label, phrase in words.items():
        for i in range(n_per_label):
            texts.append(f"{phrase} {i}")
            labels.append(label)
    return texts, np.asarray(labels, dtype=np.int64)


def test_the_teacher_is_out_of_fold():
    texts, labels = corpus()
    teacher = out_of_fold(texts, labels, 4, seed=13)
    assert teacher.probabilities.shape == (160, 4) and teacher.folds == 5
    np.testing.assert_allclose(teacher.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert teacher.oof_accuracy > 0.9  # the four phrases are easy


def test_the_cached_n_grams_are_the_baselines_features_exactly():
    texts, _ = corpus(10)
    texts += ["ร้านนี้อร่อยมากกกก 555", "ส่งช้า!!  แย่ๆ 😡", "Open กี่โมง?"]
    plain = teacher_module.tfidf_features()
    grams = [plain.build_analyzer()(text) for text in texts]
    cached = teacher_module.tfidf_features(analyzer=grams.__getitem__)
    expected, got = plain.fit_transform(texts), cached.fit_transform(range(len(texts)))
    assert cached.vocabulary_ == plain.vocabulary_ and (expected != got).nnz == 0


def test_on_noise_the_teacher_knows_nothing_because_no_row_is_scored_by_a_fit_on_itself():
    rng = random.Random(0)
    letters = "กขคงจฉชซญดตถทธนบปผพฟภมยรลวศสหอ"
    texts = ["".join(rng.choice(letters) for _ in range(12)) for _ in range(200)]
    labels = np.arange(200) % 4  # labels unrelated to the texts
    rows = np.arange(200)
    on_own_rows = teacher_module._fit_and_predict(texts, labels, texts, 4)[rows, labels].mean()
    held_out = out_of_fold(texts, labels, 4, seed=13).probabilities[rows, labels].mean()
    assert on_own_rows > 0.35  # a fit scored on its own rows has learned their labels by heart...
    assert abs(held_out - 0.25) < 0.03  # ...out of fold, the label is a guess among four


def test_soft_targets_mix_the_label_and_give_copies_their_originals_probabilities():
    teacher = np.asarray([[0.1, 0.7, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25]], dtype=np.float32)
    labels = np.asarray([0, 3, 3])  # row 2 is a copy of row 1
    targets = soft_targets(labels, teacher, np.asarray([1]), weight=0.4)
    np.testing.assert_allclose(targets[0], [0.64, 0.28, 0.04, 0.04], atol=1e-6)
    np.testing.assert_allclose(targets[1], [0.1, 0.1, 0.1, 0.7], atol=1e-6)
    np.testing.assert_allclose(targets[2], targets[1])
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-6)


def test_a_saved_teacher_is_read_back_only_for_the_same_job(tmp_path, monkeypatch):
    texts, labels = corpus(10)
    first = load_or_fit(texts, labels, 4, 13, tmp_path, "job-a")
    fits = []
    monkeypatch.setattr(teacher_module, "out_of_fold", lambda *a: fits.append(a) or first)
    again = load_or_fit(texts, labels, 4, 13, tmp_path, "job-a")
    assert fits == [] and np.array_equal(again.probabilities, first.probabilities) and again.folds == first.folds
    load_or_fit(texts, labels, 4, 13, tmp_path, "job-b")  # another job's file is not trusted
    assert len(fits) == 1


def test_a_job_with_distillation_trains_on_soft_targets_and_records_its_teacher(tmp_path, dataset):
    out = tmp_path / "out"
    code, log, err = run_job(write_config(tmp_path / "c.json", {"epochs": 1, "distillWeight": 0.5, "rareClassCopies": 2}),
                             dataset, out)
    assert code == 0, err
    m = json.loads((out / "metrics.json").read_text())
    assert m["params"]["distillWeight"] == 0.5
    assert m["teacher"]["folds"] == 5 and 0.25 < m["teacher"]["oof_accuracy"] <= 1 and m["teacher"]["seconds"] > 0
    assert "distillation teacher: 5-fold" in log and (out / "checkpoints" / "teacher.pt").is_file()
    plain = tmp_path / "plain"
    assert run_job(write_config(tmp_path / "p.json", {"epochs": 1, "rareClassCopies": 2}), dataset, plain)[0] == 0
    assert json.loads((plain / "metrics.json").read_text())["teacher"] is None
    # Same seed, same rows, same batches: only the targets differ, so the losses must too.
    assert m["history"][0]["train_loss"] != json.loads((plain / "metrics.json").read_text())["history"][0]["train_loss"]


def test_without_scikit_learn_the_job_says_what_to_install(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    texts, labels = corpus(5)
    with pytest.raises(Exception, match="scikit-learn.*distillWeight to 0"):
        out_of_fold(texts, labels, 4, seed=13)
