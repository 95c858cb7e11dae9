"""Pure pieces: metrics, class weights, config checks, batching, and the model's padding invariance."""
import json

import numpy as np
import pytest
import torch

from conftest import TINY
from mlc_train.config import load_job_config, resolve_params
from mlc_train.data import BucketBatchSampler, Encoded, PadCollator
from mlc_train.errors import ConfigError
from mlc_train.metrics import accuracy, class_weights, macro_f1
from mlc_train.model import RobertaLstmClassifier, scratch_encoder_config
from mlc_train.pipeline import bounded_steps


def test_class_weights_are_inverse_frequency_averaging_one():
    labels = np.array([0] * 6 + [1] * 3 + [2] * 1)  # label 3 never occurs
    w = class_weights(labels, 4)
    inverse = np.array([1 / 6, 1 / 3, 1.0])
    np.testing.assert_allclose(w[:3], inverse * 3 / inverse.sum())
    assert w[3] == 0.0
    assert w[:3].mean() == pytest.approx(1.0)
    assert w[2] / w[0] == pytest.approx(6.0)  # the rare class counts six times the common one


def test_class_weights_power_half_is_the_square_root_of_inverse_frequency():
    labels = np.array([0] * 16 + [1] * 4 + [2] * 1)
    w = class_weights(labels, 3, 0.5)
    assert w.mean() == pytest.approx(1.0)
    assert w[2] / w[0] == pytest.approx(4.0)  # sqrt(16): gentler than the full 16x
    np.testing.assert_allclose(class_weights(labels, 3, 0.0), [1.0, 1.0, 1.0])


def test_class_weights_balanced_data_are_all_one():
    np.testing.assert_allclose(class_weights(np.array([0, 1, 2, 0, 1, 2]), 3), [1.0, 1.0, 1.0])


def test_macro_f1_and_accuracy_by_hand():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 0, 2])
    # class 0: tp1 fp1 fn1 -> 0.5; class 1: tp2 fp1 fn0 -> 0.8; class 2: tp1 fp0 fn1 -> 2/3
    assert macro_f1(y_true, y_pred, 4) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)  # label 3 absent: not counted
    assert accuracy(y_true, y_pred) == pytest.approx(4 / 6)
    assert macro_f1(y_true, y_true, 3) == 1.0


@pytest.mark.parametrize("override, field", [
    ({"batchSise": 8}, "params.batchSise"),
    ({"epochs": "3"}, "params.epochs"),
    ({"epochs": 2.5}, "params.epochs"),
    ({"classWeights": 1}, "params.classWeights"),
    ({"precision": "fp8"}, "params.precision"),
    ({"learningRate": 0}, "params.learningRate"),
    ({"hiddenSize": 30, "numHeads": 4}, "params.numHeads"),
])
def test_bad_params_name_the_field(override, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        resolve_params(override, "params")


def test_top_level_config_checks(tmp_path):
    def load(config):
        (tmp_path / "c.json").write_text(json.dumps(config))
        return load_job_config(tmp_path / "c.json", tmp_path, tmp_path / "out", None, None, env={})

    good = {"labels": ["a", "b"], "datasetHash": "h", "pretrainedDir": None, "params": {}}
    assert load(good).cache_dir == tmp_path / ".cache"
    with pytest.raises(ConfigError, match="labels"):
        load({**good, "labels": ["a", "a"]})
    with pytest.raises(ConfigError, match="datasetHash"):
        load({**good, "datasetHash": ""})
    with pytest.raises(ConfigError, match="pretrainedDir"):
        load({**good, "pretrainedDir": "relative/path"})
    with pytest.raises(ConfigError, match="pretrainedDir"):
        load({**good, "pretrainedDir": str(tmp_path / "nowhere")})
    with pytest.raises(ConfigError, match="modelName"):
        load({**good, "modelName": "x"})


def test_fingerprint_ignores_only_resumable_changes(tmp_path):
    def job(params):
        (tmp_path / "c.json").write_text(json.dumps({"labels": ["a", "b"], "datasetHash": "h", "params": params}))
        return load_job_config(tmp_path / "c.json", tmp_path, tmp_path / "out", None, None, env={})

    base = job({"epochs": 1})
    assert job({"epochs": 5, "patience": 4, "numWorkers": 0}).fingerprint() == base.fingerprint()
    assert job({"epochs": 1, "learningRate": 1e-3}).fingerprint() != base.fingerprint()
    assert job({"epochs": 5}).full_hash() != base.full_hash()


def test_bucket_sampler_covers_every_row_once_and_resumes_exactly():
    lengths = np.random.default_rng(0).integers(3, 60, size=203)
    sampler = BucketBatchSampler(lengths, 16, seed=13, epoch=2, chunk_batches=4)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(203))
    assert batches == list(BucketBatchSampler(lengths, 16, seed=13, epoch=2, chunk_batches=4))
    assert batches != list(BucketBatchSampler(lengths, 16, seed=13, epoch=3, chunk_batches=4))
    assert list(BucketBatchSampler(lengths, 16, seed=13, epoch=2, start=5, chunk_batches=4)) == batches[5:]
    # sorted within chunks: a batch spans far fewer lengths than a random batch would
    spread = np.mean([lengths[b].max() - lengths[b].min() for b in batches])
    assert spread < 20


def test_collator_pads_to_the_longest_row_only():
    encoded = Encoded.from_lists([[0, 5, 2], [0, 5, 6, 7, 2]])
    batch = PadCollator(pad_id=1)([(encoded.row(0), 1), (encoded.row(1), 3)])
    assert batch["input_ids"].tolist() == [[0, 5, 2, 1, 1], [0, 5, 6, 7, 2]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    assert batch["labels"].tolist() == [1, 3]


def test_a_texts_logits_do_not_depend_on_its_batch_padding():
    from transformers import RobertaModel

    torch.manual_seed(0)
    config = scratch_encoder_config({**TINY, "dropout": 0.1}, vocab_size=300, pad_id=1, bos_id=0, eos_id=2)
    model = RobertaLstmClassifier(RobertaModel(config, add_pooling_layer=False), 16, 4, 0.1).eval()
    row = torch.tensor([[0, 17, 42, 99, 2]])
    alone = model(row, torch.ones_like(row))
    padded = torch.cat([row, torch.ones(1, 9, dtype=torch.long)], dim=1)
    mask = (padded != 1).long()
    in_batch = model(padded, mask)
    torch.testing.assert_close(alone, in_batch, atol=1e-5, rtol=0)


def test_step_curve_is_bounded_and_keeps_means_and_the_last_learning_rate():
    steps = [{"step": 10 * (i + 1), "loss": float(i), "lr": 1.0 / (i + 1)} for i in range(1000)]
    bounded = bounded_steps(steps, 200)
    assert len(bounded) == 200
    assert bounded[0] == {"step": 50, "loss": pytest.approx((0 + 1 + 2 + 3 + 4) / 5), "lr": 1.0 / 5}
    assert bounded[-1]["step"] == 10_000 and bounded[-1]["lr"] == steps[-1]["lr"]
    assert [b["step"] for b in bounded] == sorted({b["step"] for b in bounded})  # increasing, no repeats
    assert sum(b["loss"] for b in bounded) / 200 == pytest.approx(sum(s["loss"] for s in steps) / 1000)
    odd = bounded_steps(steps[:401], 200)  # 401 points in groups of 3: the last group holds two
    assert len(odd) == 134 and odd[-1] == {"step": 4010, "loss": 399.5, "lr": steps[400]["lr"]}
    assert bounded_steps(steps[:200], 200) == steps[:200]


def test_a_warm_start_names_weights_missing_on_either_side_and_counts_the_rest(tmp_path):
    """The earlier version's weights against this run's model: a tensor of another shape, one only
    this run has and one only the earlier version has are each named; past three it says how many more."""
    from mlc_train.warm_start import _check_shapes

    folder = tmp_path / "run-v1"
    built = {"a": torch.zeros(2, 3), "b": torch.zeros(4), "new.head": torch.zeros(1)}
    earlier = {"a": torch.zeros(3, 3), "b": torch.zeros(4), "old.head": torch.zeros(1)}
    with pytest.raises(ConfigError) as refused:
        _check_shapes(built, earlier, folder)
    message = str(refused.value)
    assert "run-v1's weights do not fit" in message
    assert "a (3, 3) (this run (2, 3))" in message
    assert "new.head only in this run" in message and "old.head only in run-v1" in message
    assert "more" not in message and "b " not in message

    many = {f"extra{i}": torch.zeros(1) for i in range(5)}
    with pytest.raises(ConfigError, match=r"extra0 only in this run; extra1 only in this run; extra2 only in this run and 2 more\."):
        _check_shapes({**built, **many}, {**built}, folder)
    _check_shapes(built, dict(built), folder)  # the same shapes: no complaint


def test_progress_writes_phases_and_validations_at_once_and_steps_at_most_every_few_seconds(tmp_path):
    from mlc_train.progress import MIN_SECONDS_BETWEEN_STEPS, Progress

    now = [100.0]
    progress = Progress(tmp_path, clock=lambda: now[0])
    read = lambda: json.loads((tmp_path / "progress.json").read_text())  # noqa: E731
    progress.phase("teacher")
    assert read()["phase"] == "teacher"
    now[0] += MIN_SECONDS_BETWEEN_STEPS
    progress.step(1, 3, 10, 90, 1.23456, 5e-4)
    assert (read()["step"], read()["loss"], read()["lr"], read()["phase"]) == (10, 1.23456, 5e-4, "training")
    now[0] += MIN_SECONDS_BETWEEN_STEPS / 2
    progress.step(1, 3, 20, 90, 1.0, 4e-4)
    assert read()["step"] == 10  # too soon: not written
    entry = {"epoch": 1, "step": 30, "train_loss": 1.1, "val_loss": 0.9, "val_accuracy": 0.6, "val_macro_f1": 0.51234}
    progress.validated(entry)
    assert read()["step"] == 20 and read()["validation"] == entry
    now[0] += MIN_SECONDS_BETWEEN_STEPS
    progress.step(2, 3, 40, 90, 0.9, 3e-4)
    assert read()["step"] == 40 and read()["validation"]["epoch"] == 1  # the last validation stays in view


def test_progress_that_cannot_be_written_only_warns(tmp_path, capsys):
    from mlc_train.progress import Progress

    (tmp_path / "progress.json").mkdir()  # a folder where the file should go: the rename fails
    Progress(tmp_path).phase("training")
    assert "could not write" in capsys.readouterr().err
