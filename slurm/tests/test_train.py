"""End to end, in process: outputs, tokenization cache, resume, bf16, trials, a pretrained folder."""
import json
import stat
import subprocess
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from conftest import LABELS, TINY, run_job, write_config
from mlc_train.model import load_model
from mlc_train.outputs import sha256_file

OUTPUTS = ["model.pt", "model.onnx", "model.int8.onnx", "deploy.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
           "labels.json", "metrics.json", "DONE", "progress.json", "checkpoints/last.pt", "checkpoints/best.pt"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, dataset):
    """One default-shaped run (a DataLoader worker, class weights, 2 epochs) that several tests read."""
    root = tmp_path_factory.mktemp("e2e")
    config = write_config(root / "config.json", {"numWorkers": 1, "checkpointEverySteps": 10})
    code, out, err = run_job(config, dataset, root / "runs" / "v1")
    assert code == 0, err
    return root, config, out


def test_a_run_writes_every_output(trained):
    root, _, log = trained
    out = root / "runs" / "v1"
    for name in OUTPUTS:
        assert (out / name).is_file(), name
        assert (out / name).stat().st_mode & stat.S_IROTH, f"{name} is not world-readable"
    assert not list(out.glob("**/*.tmp")), "temp files left behind"
    assert json.loads((out / "labels.json").read_text()) == LABELS
    assert "tokenization cache miss" in log
    assert "epoch 1/2 step 15 loss" in log and "epoch 2/2 step 30 loss" in log  # 240 rows / 16
    assert "checkpoint saved (reason: interval)" in log and "checkpoint saved (reason: epoch)" in log
    assert (root / "runs" / ".cache").is_dir()  # default cache: OUT_DIR/../.cache


def test_metrics_json_has_the_contract_fields(trained):
    root, _, _ = trained
    m = json.loads((root / "runs" / "v1" / "metrics.json").read_text())
    assert set(m) == {"history", "steps", "best", "stopped_early", "averaged", "device", "precision", "params", "onnx_parity",
                      "onnx_int8", "trial", "train_seconds", "pretrain", "teacher", "warm_start", "code", "node", "slurm",
                      "versions"}
    # Lineage for the audit package: the node it ran on and the versions that shaped the files.
    assert m["node"] and set(m["versions"]) == {"python", "torch", "transformers", "onnx", "onnxruntime"}
    assert m["versions"]["torch"] == torch.__version__
    assert [h["epoch"] for h in m["history"]] == [1, 2]
    assert set(m["history"][0]) == {"epoch", "step", "train_loss", "val_loss", "val_accuracy", "val_macro_f1"}
    assert [s["step"] for s in m["steps"]] == [10, 20, 30]
    assert set(m["steps"][0]) == {"step", "loss", "lr"}
    assert m["best"]["epoch"] in (1, 2)
    assert m["best"]["val_macro_f1"] == max(h["val_macro_f1"] for h in m["history"])
    assert (m["device"], m["precision"], m["trial"], m["stopped_early"]) == ("cpu", "fp32", None, False)
    assert m["params"]["numWorkers"] == 1 and m["params"]["seed"] == 13  # resolved: defaults filled in
    assert m["train_seconds"] > 0 and m["pretrain"] is None and m["averaged"] is None  # both off by default
    assert m["warm_start"] is None  # from scratch
    # The commit of the training code: this checkout's HEAD, or null where git cannot say.
    head = subprocess.run(["git", "-C", str(Path(__file__).parent), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert m["code"]["git_commit"] == (head.stdout.strip() if head.returncode == 0 else None)
    parity = m["onnx_parity"]
    assert parity["n"] == 48 and parity["max_abs_logit_diff"] <= 1e-3 and parity["label_agreement"] >= 0.99
    done = json.loads((root / "runs" / "v1" / "DONE").read_text())
    assert done["status"] == "done" and done["best"] == m["best"] and done["onnx_parity"] == parity


def test_progress_json_ends_at_the_last_step_and_validation_as_metrics_json_has_them(trained):
    """What the watching worker last read before the job ended: the export, after the last epoch; its
    step and validation are metrics.json's last `steps` and `history` entries, value for value (the
    worker records them as metric history while the job runs, under the same keys)."""
    root, _, _ = trained
    progress = json.loads((root / "runs" / "v1" / "progress.json").read_text())
    metrics = json.loads((root / "runs" / "v1" / "metrics.json").read_text())
    assert progress["phase"] == "exporting" and progress["updatedAt"].endswith("+00:00")
    assert (progress["epoch"], progress["epochs"], progress["step"], progress["steps"]) == (2, 2, 30, 30)
    assert {"step": progress["step"], "loss": progress["loss"], "lr": progress["lr"]} == metrics["steps"][-1]
    assert progress["validation"] == metrics["history"][-1]


def test_model_pt_and_onnx_agree_and_tokenizer_reloads(trained):
    from transformers import AutoTokenizer

    out = trained[0] / "runs" / "v1"
    model, blob = load_model(out / "model.pt")  # weights_only=True inside: plain values and tensors only
    assert blob["labels"] == LABELS and blob["max_length"] == 32
    tokenizer = AutoTokenizer.from_pretrained(str(out), local_files_only=True)
    enc = tokenizer(["อร่อยมาก 😍 love it", "ราคาเท่าไหร่คะ?"], padding=True, truncation=True, max_length=32,
                    return_tensors="np")
    assert enc["input_ids"][0][0] == tokenizer.bos_token_id  # <s> ... </s> added by tokenizer.json itself
    assert tokenizer.unk_token_id not in enc["input_ids"]  # byte-level: Thai and emoji never fall to <unk>
    feeds = {"input_ids": enc["input_ids"].astype(np.int64), "attention_mask": enc["attention_mask"].astype(np.int64)}
    onnx_logits = ort.InferenceSession(str(out / "model.onnx")).run(["logits"], feeds)[0]
    with torch.no_grad():
        torch_logits = model(torch.from_numpy(feeds["input_ids"]), torch.from_numpy(feeds["attention_mask"])).numpy()
    assert onnx_logits.shape == (2, 4)
    np.testing.assert_allclose(onnx_logits, torch_logits, atol=1e-4)


def test_onnx_parity_failure_exits_4_with_the_numbers(tmp_path, dataset, monkeypatch):
    import mlc_train.pipeline

    def broken_export(*_args, **_kwargs):
        return {"max_abs_logit_diff": 0.25, "label_agreement": 0.9, "n": 48}

    monkeypatch.setattr(mlc_train.pipeline, "check_parity", broken_export)
    code, _, err = run_job(write_config(tmp_path / "c.json", {"epochs": 1}), dataset, tmp_path / "out")
    assert code == 4
    assert "max |logit diff| 0.25 (bound 0.001)" in err and "label agreement 0.9000 (bound 0.99)" in err
    assert (tmp_path / "out" / "metrics.json").is_file() and not (tmp_path / "out" / "DONE").exists()


def test_rerun_of_a_finished_job_does_nothing(trained, dataset):
    root, config, _ = trained
    before = (root / "runs" / "v1" / "model.onnx").stat().st_mtime_ns
    code, log, _ = run_job(config, dataset, root / "runs" / "v1")
    assert code == 0 and "already complete" in log
    assert (root / "runs" / "v1" / "model.onnx").stat().st_mtime_ns == before


def test_second_run_hits_the_cache_and_more_epochs_resume(trained, dataset):
    root, _, _ = trained
    config = write_config(root / "one-epoch.json", {"epochs": 1})
    code, log, err = run_job(config, dataset, root / "runs" / "v2")
    assert code == 0, err
    assert "tokenization cache hit" in log and "tokenization cache miss" not in log

    config = write_config(root / "two-epochs.json", {"epochs": 2})
    code, log, err = run_job(config, dataset, root / "runs" / "v2")
    assert code == 0, err
    assert "resuming from checkpoint at step 15" in log
    assert "epoch 1/2" not in log and "epoch 2/2 step 30 loss" in log
    m = json.loads((root / "runs" / "v2" / "metrics.json").read_text())
    assert [h["epoch"] for h in m["history"]] == [1, 2] and m["params"]["epochs"] == 2


def test_bf16_on_cpu(tmp_path, dataset):
    config = write_config(tmp_path / "config.json", {"epochs": 1, "precision": "bf16"})
    code, log, err = run_job(config, dataset, tmp_path / "out")
    assert code == 0, err
    m = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert (m["device"], m["precision"]) == ("cpu", "bf16")
    assert m["onnx_parity"]["max_abs_logit_diff"] <= 1e-3  # the export is fp32 whatever training used


def test_early_stopping_on_a_flat_macro_f1(tmp_path, dataset):
    # A learning rate too small to move any prediction: macro-F1 cannot improve after epoch 1.
    config = write_config(tmp_path / "c.json", {"epochs": 4, "patience": 1, "learningRate": 1e-12, "dropout": 0.0})
    code, log, err = run_job(config, dataset, tmp_path / "out")
    assert code == 0, err
    m = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert m["stopped_early"] is True and len(m["history"]) == 2 and m["best"]["epoch"] == 1
    assert "early stopping" in log


def test_trial_from_slurm_array_task_id(tmp_path, dataset, monkeypatch):
    config = write_config(tmp_path / "config.json", {"epochs": 1})
    trials = tmp_path / "trials.json"
    trials.write_text(json.dumps([{"learningRate": 1e-3}, {"learningRate": 3e-3, "lstmHidden": 8}]))
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "1")
    monkeypatch.setenv("SLURM_JOB_ID", "5002")
    monkeypatch.setenv("SLURM_ARRAY_JOB_ID", "5000")
    code, log, err = run_job(config, dataset, tmp_path / "out", "--trials", str(trials))
    assert code == 0, err
    m = json.loads((tmp_path / "out" / "trial-1" / "metrics.json").read_text())
    assert m["trial"] == 1
    assert m["params"] == {**m["params"], **TINY, "epochs": 1, "learningRate": 3e-3, "lstmHidden": 8}
    assert (tmp_path / "out" / "trial-1" / "DONE").is_file() and not (tmp_path / "out" / "DONE").exists()
    assert (tmp_path / "out" / "trial-1" / "slurm-job-id").read_text().strip() == "5002"
    assert (tmp_path / "out" / "slurm-job-id").read_text().strip() == "5000"  # the array, for the submitter


def test_pretrained_folder_is_loaded_locally(tmp_path, dataset, trained):
    """A pretrainedDir is any local RoBERTa folder; here, the encoder and tokenizer of the run above."""
    model, _ = load_model(trained[0] / "runs" / "v1" / "model.pt")
    folder = tmp_path / "pretrained"
    model.encoder.save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (folder / name).write_bytes((trained[0] / "runs" / "v1" / name).read_bytes())
    config = write_config(tmp_path / "config.json", {"epochs": 1}, pretrained=str(folder))
    code, log, err = run_job(config, dataset, tmp_path / "out")
    assert code == 0, err
    assert (tmp_path / "out" / "tokenizer.json").read_bytes() == (folder / "tokenizer.json").read_bytes()
    tuned, _ = load_model(tmp_path / "out" / "model.pt")
    assert tuned.encoder.config.hidden_size == 32


def test_a_warm_start_continues_from_an_earlier_run_with_its_tokenizer(trained, dataset):
    """initFrom (a retrain from the deployed version): its tokenizer and weights, not new ones. With a
    learning rate too small to move anything, the new run's model is the earlier one."""
    root = trained[0]
    earlier = root / "runs" / "v1"
    config = write_config(root / "warm.json", {"epochs": 1, "learningRate": 1e-12}, initFrom="../v1")
    code, log, err = run_job(config, dataset, root / "runs" / "v2")
    assert code == 0, err
    later = root / "runs" / "v2"
    assert f"warm start from {earlier}" in log
    assert (later / "tokenizer.json").read_bytes() == (earlier / "tokenizer.json").read_bytes()
    warm = json.loads((later / "metrics.json").read_text())["warm_start"]
    assert warm["from"] == str(earlier) and warm["model_sha256"] == sha256_file(earlier / "model.pt")
    before, _ = load_model(earlier / "model.pt")
    after, _ = load_model(later / "model.pt")
    for name, weight in before.state_dict().items():
        assert torch.allclose(weight, after.state_dict()[name], atol=1e-6), name


@pytest.mark.parametrize("change, message", [
    ({"initFrom": "../nowhere"}, "model.pt not found; a warm start needs an earlier run's folder"),
    ({"initFrom": "../v1", "labels": ["pos", "neg", "neu", "q"]}, "needs the same labels in the same order"),
    ({"initFrom": "../v1", "params": {**TINY, "hiddenSize": 64}}, "params change it: hiddenSize 64 (earlier 32)"),
])
def test_a_warm_start_that_cannot_fit_is_refused_naming_why(trained, dataset, tmp_path, change, message):
    config = write_config(tmp_path / "c.json")
    config.write_text(json.dumps({**json.loads(config.read_text()), **change}))
    code, _, err = run_job(config, dataset, trained[0] / "runs" / "refused")
    assert code == 2 and message in err, err


def test_a_warm_start_onto_another_encoder_is_refused_naming_the_weights(trained, dataset, tmp_path):
    """The params agree, but this run fine-tunes a pretrainedDir of another width than the earlier
    version's encoder: refused as a config error that names the weights, not PyTorch's size mismatch."""
    from transformers import RobertaConfig, RobertaModel

    earlier = trained[0] / "runs" / "v1"
    _, blob = load_model(earlier / "model.pt")
    narrower = RobertaConfig.from_dict({**blob["encoder_config"], "hidden_size": 16, "intermediate_size": 32})
    folder = tmp_path / "pretrained"
    RobertaModel(narrower, add_pooling_layer=False).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (folder / name).write_bytes((earlier / name).read_bytes())
    job = write_config(tmp_path / "c.json", {"epochs": 1}, pretrained=str(folder), initFrom="../v1")
    code, _, err = run_job(job, dataset, trained[0] / "runs" / "onto-another")
    assert code == 2, err
    assert "v1's weights do not fit the model this run builds" in err and "(this run (" in err, err
    assert "size mismatch" not in err
