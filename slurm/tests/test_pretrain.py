"""Masked-language-model pretraining before fine-tuning (mlmEpochs): the masking rule, that it
learns, and that a job stopped in the middle of it resumes at its last finished epoch."""
import json
import os
import signal

import torch

from conftest import run_job, write_config
import mlc_train.pretrain as pretrain
from mlc_train.errors import EXIT_CHECKPOINTED


def test_masking_never_touches_special_tokens_or_padding_and_follows_80_10_10():
    special = torch.tensor([0, 1, 2])  # <s> <pad> </s>
    ids = torch.randint(5, 1000, (400, 64))
    ids[:, 0], ids[:, -1] = 0, 2
    mask = torch.ones_like(ids)
    ids[:, 40:], mask[:, 40:] = 1, 0
    inputs, targets = pretrain.mask_tokens(ids, mask, 4, 1000, special, 0.15, torch.Generator().manual_seed(0))
    chosen = targets != -100
    assert not chosen[:, 0].any() and not chosen[:, 40:].any()
    assert (targets[chosen] == ids[chosen]).all() and (inputs[~chosen] == ids[~chosen]).all()
    share = chosen.sum().item() / (400 * 38)
    assert 0.13 < share < 0.17
    as_mask = (inputs[chosen] == 4).float().mean().item()
    kept = (inputs[chosen] == ids[chosen]).float().mean().item()
    assert 0.77 < as_mask < 0.83 and 0.07 < kept < 0.13  # the remaining ~10 % are random tokens


def test_pretraining_learns_and_is_recorded(tmp_path, dataset):
    code, log, err = run_job(write_config(tmp_path / "c.json", {"epochs": 1, "mlmEpochs": 3, "mlmBatchSize": 16}), dataset, tmp_path / "out")
    assert code == 0, err
    assert "pretrain epoch 3/3" in log and "epoch 1/1 step" in log
    m = json.loads((tmp_path / "out" / "metrics.json").read_text())
    history = m["pretrain"]["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[-1]["mlm_loss"] < history[0]["mlm_loss"]  # it predicts masked tokens better than at the start
    assert m["params"]["mlmEpochs"] == 3 and m["pretrain"]["seconds"] > 0
    assert (tmp_path / "out" / "checkpoints" / pretrain.DONE).is_file()
    assert not (tmp_path / "out" / "checkpoints" / pretrain.LAST).exists()


def test_a_job_stopped_mid_pretraining_resumes_after_its_last_finished_epoch(tmp_path, dataset, monkeypatch):
    params = {"epochs": 1, "mlmEpochs": 2, "mlmBatchSize": 16}
    code, _, err = run_job(write_config(tmp_path / "c.json", params), dataset, tmp_path / "whole")
    assert code == 0, err

    calls = {"n": 0}
    real = pretrain.mask_tokens

    def signal_in_second_epoch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 20:  # 15 batches an epoch: the fifth batch of the second
            os.kill(os.getpid(), signal.SIGUSR1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pretrain, "mask_tokens", signal_in_second_epoch)
    code, log, _ = run_job(write_config(tmp_path / "c.json", params), dataset, tmp_path / "out")
    assert code == EXIT_CHECKPOINTED
    assert "pretrain epoch 1/2" in log and "pretrain epoch 2/2" not in log
    assert not (tmp_path / "out" / "DONE").exists()

    monkeypatch.setattr(pretrain, "mask_tokens", real)
    code, log, err = run_job(write_config(tmp_path / "c.json", params), dataset, tmp_path / "out")
    assert code == 0, err
    assert "resuming pretraining after epoch 1/2" in log and "pretrain epoch 1/2" not in log
    resumed = json.loads((tmp_path / "out" / "metrics.json").read_text())
    whole = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    # The redone epoch sees the same batches, masks and dropout as the uninterrupted run's.
    assert resumed["pretrain"]["history"] == whole["pretrain"]["history"]
    assert resumed["history"][0]["val_macro_f1"] == whole["history"][0]["val_macro_f1"]

    # A requeue after pretraining finished (here: a rerun with more fine-tuning epochs) reads it back.
    code, log, err = run_job(write_config(tmp_path / "c.json", {**params, "epochs": 2}), dataset, tmp_path / "out")
    assert code == 0, err
    assert "pretrained encoder loaded" in log and "pretrain epoch" not in log
