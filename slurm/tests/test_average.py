"""averageEpochs: the mean of the last epochs' weights is validated and kept only when it beats the
best epoch, and the model the job exports is then exactly that mean."""
import json

import torch

from conftest import run_job, write_config
from mlc_train import checkpoint
from mlc_train.model import load_model


def test_the_last_epochs_are_averaged_validated_and_exported_when_better(tmp_path, dataset):
    out = tmp_path / "out"
    code, log, err = run_job(write_config(tmp_path / "c.json", {"epochs": 4, "patience": 10, "averageEpochs": 3}), dataset, out)
    assert code == 0, err
    m = json.loads((out / "metrics.json").read_text())
    averaged = m["averaged"]
    assert averaged["epochs"] == [2, 3, 4] and "average of epochs 2-4" in log
    assert sorted(p.name for p in (out / "checkpoints").glob("epoch-*.pt")) == ["epoch-2.pt", "epoch-3.pt", "epoch-4.pt"]
    best_epoch = max(m["history"], key=lambda h: h["val_macro_f1"])
    assert averaged["kept"] == (averaged["val_macro_f1"] > best_epoch["val_macro_f1"])
    _, mean = checkpoint.load_epochs(out / "checkpoints", 3)
    exported = load_model(out / "model.pt")[0].state_dict()
    if averaged["kept"]:
        assert m["best"]["averaged_epochs"] == [2, 3, 4] and m["best"]["val_macro_f1"] == averaged["val_macro_f1"]
        assert all(torch.allclose(exported[k].float(), mean[k].float()) for k in mean)
    else:
        assert "averaged_epochs" not in m["best"] and m["best"]["epoch"] == best_epoch["epoch"]


def test_the_mean_is_of_the_saved_epochs_weights(tmp_path):
    for epoch, value in ((1, 1.0), (2, 2.0), (3, 4.0)):
        model = torch.nn.Linear(2, 1)
        torch.nn.init.constant_(model.weight, value)
        checkpoint.save_epoch(tmp_path, model, epoch, keep=2)
    assert sorted(p.name for p in tmp_path.glob("epoch-*.pt")) == ["epoch-2.pt", "epoch-3.pt"]
    epochs, mean = checkpoint.load_epochs(tmp_path, 2)
    assert epochs == [2, 3] and torch.equal(mean["weight"], torch.full((1, 2), 3.0))
