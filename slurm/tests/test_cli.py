"""The failure half of the CLI contract: exit codes and messages that name what to fix."""
import json
import subprocess
import sys
import time

import pytest

from conftest import SLURM_DIR, run_job, subprocess_env, write_config


def test_bad_config_field_exits_2_naming_it_before_loading_torch(tmp_path, dataset):
    config = write_config(tmp_path / "config.json", {"batchSise": 8})
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(SLURM_DIR / "train.py"), "--config", str(config), "--data-dir",
                           str(dataset), "--out-dir", str(tmp_path / "out")],
                          capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert done.returncode == 2
    assert "params.batchSise: unknown parameter" in done.stderr
    assert done.stdout == ""
    assert time.monotonic() - started < 5  # no torch import on the way to a config error


@pytest.mark.parametrize("params, message", [
    ({"epochs": 0}, "params.epochs: must be between 1 and 1000, got 0"),
    ({"precision": "fp8"}, "params.precision: must be one of auto, fp32, bf16, fp16"),
])
def test_bad_param_values(tmp_path, dataset, params, message):
    code, _, err = run_job(write_config(tmp_path / "c.json", params), dataset, tmp_path / "out")
    assert code == 2 and message in err


def test_missing_data_file_names_the_path(tmp_path, dataset):
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.jsonl").write_bytes((dataset / "train.jsonl").read_bytes())
    (data / "valid.jsonl").write_bytes((dataset / "valid.jsonl").read_bytes())
    code, _, err = run_job(write_config(tmp_path / "c.json"), data, tmp_path / "out")
    assert code == 3 and f"data file not found: {data / 'test.jsonl'}" in err


def test_unknown_label_names_file_and_line(tmp_path, dataset):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("train", "valid", "test"):
        (data / f"{name}.jsonl").write_bytes((dataset / f"{name}.jsonl").read_bytes())
    with open(data / "valid.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"text": "hmm", "label": "angry"}) + "\n")
    code, _, err = run_job(write_config(tmp_path / "c.json"), data, tmp_path / "out")
    assert code == 3 and f"{data / 'valid.jsonl'}:49: label 'angry'" in err


def test_trials_without_array_task_id_is_a_clear_error(tmp_path, dataset):
    trials = tmp_path / "trials.json"
    trials.write_text(json.dumps([{"learningRate": 1e-3}]))
    code, _, err = run_job(write_config(tmp_path / "c.json"), dataset, tmp_path / "out", "--trials", str(trials))
    assert code == 2 and "--trials needs SLURM_ARRAY_TASK_ID" in err
    assert not (tmp_path / "out").exists()


def test_trial_index_and_overrides_are_checked(tmp_path, dataset, monkeypatch):
    trials = tmp_path / "trials.json"
    trials.write_text(json.dumps([{"learningRate": 1e-3}, {"lstmHiden": 8}]))
    config = write_config(tmp_path / "c.json")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "2")
    code, _, err = run_job(config, dataset, tmp_path / "out", "--trials", str(trials))
    assert code == 2 and "SLURM_ARRAY_TASK_ID=2 is outside" in err
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "1")
    code, _, err = run_job(config, dataset, tmp_path / "out", "--trials", str(trials))
    assert code == 2 and "trials[1].lstmHiden: unknown parameter" in err


def test_missing_required_argument_is_a_usage_error(tmp_path):
    from mlc_train.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(tmp_path / "c.json")])
    assert exit_info.value.code == 2
