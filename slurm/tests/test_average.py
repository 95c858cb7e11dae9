"""averageEpochs: the mean of the last epochs' weights is validated and kept only when it beats the
best epoch, and the model the job exports is then exactly that mean; otherwise the best epoch's."""
import json

import pytest
import torch

from conftest import run_job, write_config
from mlc_train import checkpoint, trainer
from mlc_train.model import load_model


def _average_scored(monkeypatch, score: float) -> None:
    """The average's validation comes out `score` (the epochs' own are untouched), so each branch of
    the keep decision is taken for certain rather than by whatever the tiny run happens to learn."""
    real_average, real_evaluate = trainer.average_last_epochs, trainer.evaluate

    def scored(*args, **kwargs):
        return {**real_evaluate(*args, **kwargs), "val_macro_f1": score}

    def average(*args, **kwargs):
        monkeypatch.setattr(trainer, "evaluate", scored)
        try:
            return real_average(*args, **kwargs)
        finally:
            monkeypatch.setattr(trainer, "evaluate", real_evaluate)

    monkeypatch.setattr(trainer, "average_last_epochs", average)


@pytest.mark.parametrize("average_score, kept", [(1.0, True), (-1.0, False)])
def test_the_last_epochs_are_averaged_validated_and_exported_only_when_better(tmp_path, dataset, monkeypatch,
                                                                             average_score, kept):
    _average_scored(monkeypatch, average_score)
    out = tmp_path / "out"
    code, log, err = run_job(write_config(tmp_path / "c.json", {"epochs": 4, "patience": 10, "averageEpochs": 3}), dataset, out)
    assert code == 0, err
    m = json.loads((out / "metrics.json").read_text())
    averaged = m["averaged"]
    assert averaged["epochs"] == [2, 3, 4] and "average of epochs 2-4" in log
    assert sorted(p.name for p in (out / "checkpoints").glob("epoch-*.pt")) == ["epoch-2.pt", "epoch-3.pt", "epoch-4.pt"]
    assert averaged["kept"] is kept and averaged["val_macro_f1"] == average_score
    _, mean = checkpoint.load_epochs(out / "checkpoints", 3)
    exported = load_model(out / "model.pt")[0].state_dict()
    same_as_mean = all(torch.allclose(exported[k].float(), mean[k].float()) for k in mean)
    best_epoch = max(m["history"], key=lambda h: h["val_macro_f1"])
    if kept:
        assert m["best"]["averaged_epochs"] == [2, 3, 4] and m["best"]["val_macro_f1"] == average_score
        assert same_as_mean and "the average of epochs 2-4" in log
    else:
        assert "averaged_epochs" not in m["best"] and m["best"]["epoch"] == best_epoch["epoch"]
        assert m["best"]["val_macro_f1"] == best_epoch["val_macro_f1"]
        assert not same_as_mean  # the best epoch's own weights, not the mean of three epochs


def test_the_mean_is_of_the_saved_epochs_weights(tmp_path):
    for epoch, value in ((1, 1.0), (2, 2.0), (3, 4.0)):
        model = torch.nn.Linear(2, 1)
        torch.nn.init.constant_(model.weight, value)
        checkpoint.save_epoch(tmp_path, model, epoch, keep=2)
    assert sorted(p.name for p in tmp_path.glob("epoch-*.pt")) == ["epoch-2.pt", "epoch-3.pt"]
    epochs, mean = checkpoint.load_epochs(tmp_path, 2)
    assert epochs == [2, 3] and torch.equal(mean["weight"], torch.full((1, 2), 3.0))
