"""The recipe's levers: augmentation of the training split (rare-class copies, token dropout and
swaps), the moving average of the weights, label smoothing and the Thai-aware pre-tokenizer."""
import json

import numpy as np
import pytest
import torch

from conftest import TINY, run_job, write_config
from mlc_train.augment import (AugmentedRows, concat, corrupt_ids, rare_class_copies, rare_classes, vary_text,
                               with_rare_copies)
from mlc_train.config import resolve_params
from mlc_train.data import Encoded, Split
from mlc_train.errors import ConfigError
from mlc_train.tokenizer import train_bpe
from mlc_train.trainer import WeightAverage

QUESTIONS = ["เปิดกี่โมงครับ", "ราคาเท่าไหร่คะ", "มีสาขาที่ไหนบ้าง?", "ส่งฟรีไหม 555", "โทร 1555 ได้ไหม"]


def split_with_rare_q() -> Split:
    texts = [f"ข้อความที่ {i}" for i in range(115)] + QUESTIONS  # q: 5 of 120 rows, 4 %
    return Split(texts, np.array([1] * 75 + [0] * 40 + [3] * 5, dtype=np.int64))


def test_rare_classes_are_those_under_five_percent_that_occur():
    labels = np.array([0] * 60 + [1] * 36 + [2] * 4)
    assert rare_classes(labels, 4) == [2]  # 4 %; class 3 never occurs: nothing to copy


def test_rare_class_copies_vary_the_rare_rows_and_are_fixed_by_the_seed():
    split = split_with_rare_q()
    extra, origins = rare_class_copies(split, 4, 3, seed=13)
    assert len(extra.texts) == 15 and set(extra.labels.tolist()) == {3}
    assert (split.labels[origins] == extra.labels).all() and len(origins) == 15
    assert extra.texts == rare_class_copies(split, 4, 3, seed=13)[0].texts
    assert extra.texts != rare_class_copies(split, 4, 3, seed=14)[0].texts
    assert sum(t not in QUESTIONS for t in extra.texts) >= 12  # nearly every copy differs from its row
    assert rare_class_copies(split, 4, 0, seed=13)[0].texts == []


def test_variations_keep_the_message_and_the_normalized_forms():
    rng = np.random.default_rng(0)
    for _ in range(200):
        for text in QUESTIONS:
            varied = vary_text(text, rng)
            last_words = [p for p in text.split(" ") if any(c.isalpha() for c in p)][-1]
            core = last_words.replace("ครับ", "").replace("คะ", "").rstrip("?")
            assert core in varied  # the question itself stays, whatever is cut before it
            assert "5555" not in varied and "??" not in varied  # laughter stays "555", one question mark
            if "1" in varied:
                assert "1555" in varied  # a number is not laughter: kept whole, or cut away with its phrase


def test_corrupt_ids_keeps_the_special_tokens_and_never_empties_a_row():
    ids = np.array([0, 11, 12, 13, 14, 15, 2])
    rng = np.random.default_rng(1)
    for _ in range(200):
        out = corrupt_ids(ids, rng, dropout=0.5, swap=0.5)
        assert out[0] == 0 and out[-1] == 2 and 3 <= len(out) <= len(ids)
        assert set(out[1:-1].tolist()) <= {11, 12, 13, 14, 15}
    assert corrupt_ids(ids, rng, 0.0, 0.0) is ids
    swapped = corrupt_ids(ids, rng, 0.0, 0.5)
    assert sorted(swapped.tolist()) == sorted(ids.tolist())


def test_augmented_rows_depend_only_on_seed_epoch_and_row():
    encoded = Encoded.from_lists([[0, *range(10, 30), 2] for _ in range(4)])
    params = {"seed": 13, "tokenDropout": 0.2, "tokenSwap": 0.1}
    epoch0 = AugmentedRows(encoded, np.zeros(4, dtype=np.int64), params, epoch=0)
    again = AugmentedRows(encoded, np.zeros(4, dtype=np.int64), params, epoch=0)
    epoch1 = AugmentedRows(encoded, np.zeros(4, dtype=np.int64), params, epoch=1)
    # Read in another order (as another worker would): the same rows.
    assert [again[i][0].tolist() for i in (3, 2, 1, 0)][::-1] == [epoch0[i][0].tolist() for i in range(4)]
    assert [epoch0[i][0].tolist() for i in range(4)] != [epoch1[i][0].tolist() for i in range(4)]


def test_concat_and_with_rare_copies_append_tokenized_copies():
    split = split_with_rare_q()
    tokenizer = train_bpe(split.texts, 300, 32)
    encoded = Encoded.from_lists(tokenizer(split.texts)["input_ids"])
    params = {"rareClassCopies": 2, "seed": 13, "maxLength": 32}
    ids, labels, origins = with_rare_copies(tokenizer, split, encoded, 4, params)
    assert len(origins) == 10 and len(ids) == len(labels) == 130
    assert (split.labels[origins] == 3).all() and (np.bincount(origins) <= 2).all()  # each q row copied twice
    np.testing.assert_array_equal(ids.row(0), encoded.row(0))
    assert (labels[120:] == 3).all()
    both = concat(Encoded.from_lists([[1, 2]]), Encoded.from_lists([[3], [4, 5, 6]]))
    assert [both.row(i).tolist() for i in range(3)] == [[1, 2], [3], [4, 5, 6]]
    assert len(with_rare_copies(tokenizer, split, encoded, 4, {**params, "rareClassCopies": 0})[2]) == 0


def test_weight_average_follows_the_weights_and_swaps_back():
    model = torch.nn.Linear(2, 1)
    average = WeightAverage(model, decay=0.9)
    start = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    for step in range(1, 200):
        average.update(model, step)
    torch.testing.assert_close(average.averaged["weight"], start + 1.0, atol=1e-3, rtol=0)
    with torch.no_grad():
        model.weight.add_(5.0)
    own = model.weight.detach().clone()
    with average.swapped_in(model):
        torch.testing.assert_close(model.weight.detach(), start + 1.0, atol=1e-3, rtol=0)
    torch.testing.assert_close(model.weight.detach(), own)


def test_letters_with_marks_keeps_thai_vowels_and_tone_marks_with_their_letters():
    texts = ["ร้านนี้อร่อยมาก บริการดีสุดๆ", "เปิดกี่โมงครับ 555"] * 30
    gpt2 = train_bpe(texts, 400, 32)
    words = train_bpe(texts, 400, 32, "letters-with-marks")
    decoded = [words.convert_tokens_to_string([t]) for t in words.tokenize("ร้านนี้อร่อยมาก")]
    assert "".join(decoded) == "ร้านนี้อร่อยมาก"
    assert not any(t[0] in "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e47\u0e48\u0e49\u0e4a\u0e4b" for t in decoded)
    assert len(words.tokenize("ร้านนี้อร่อยมาก")) < len(gpt2.tokenize("ร้านนี้อร่อยมาก"))


@pytest.mark.parametrize("override, field", [
    ({"preTokenizer": "words"}, "preTokenizer"),
    ({"labelSmoothing": 0.6}, "labelSmoothing"),
    ({"emaDecay": 1}, "emaDecay"),
    ({"tokenDropout": -0.1}, "tokenDropout"),
    ({"rareClassCopies": 1.5}, "rareClassCopies"),
])
def test_the_levers_are_checked(override, field):
    with pytest.raises(ConfigError, match=field):
        resolve_params(override, "params")


def rare_q_dataset(folder, dataset):
    """The tiny corpus with most of its training questions left out, so q is under RARE_SHARE."""
    folder.mkdir()
    for name in ("train", "valid", "test"):
        lines = (dataset / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        if name == "train":
            questions = [line for line in lines if json.loads(line)["label"] == "q"]
            lines = [line for line in lines if json.loads(line)["label"] != "q"] + questions[:6]
        (folder / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_a_run_with_every_lever_records_them_and_resumes_the_average(tmp_path, dataset):
    dataset = rare_q_dataset(tmp_path / "data", dataset)
    levers = {"preTokenizer": "letters-with-marks", "labelSmoothing": 0.1, "emaDecay": 0.99, "tokenDropout": 0.1,
              "tokenSwap": 0.05, "rareClassCopies": 2}
    config = write_config(tmp_path / "config.json", {**levers, "epochs": 1})
    code, out, err = run_job(config, dataset, tmp_path / "out")
    assert code == 0, err
    assert "augmentation: 12 varied copies of rare-class rows added to train" in out
    assert torch.load(tmp_path / "out" / "checkpoints" / "last.pt", weights_only=False)["ema"] is not None
    # One more epoch resumes onto the same checkpoint, moving average included.
    config = write_config(tmp_path / "config.json", {**levers, "epochs": 2})
    code, out, err = run_job(config, dataset, tmp_path / "out")
    assert code == 0, err
    assert "resuming from checkpoint" in out
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert {k: metrics["params"][k] for k in levers} == levers
    assert metrics["params"]["batchSize"] == TINY["batchSize"]
