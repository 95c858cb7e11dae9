"""Fixtures: a tiny generated corpus (Thai, English, emoji; four labels) and an in-process runner,
so the suite pays for importing torch once instead of once per training run."""
from __future__ import annotations

import contextlib
import io
import json
import os
import random
import signal
import sys
from pathlib import Path

import pytest

# Tiny models are overhead-bound: a second OpenMP thread buys nothing, and on a busy machine the
# threads spin against each other and make every step several times slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")

SLURM_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SLURM_DIR))

from mlc_train.cli import main  # noqa: E402

LABELS = ["neg", "neu", "pos", "q"]
PHRASES = {
    "pos": ["อร่อยมาก 😍", "ชอบมากค่ะ", "love it!", "ดีสุดๆ 👍", "great service 🙏", "บริการประทับใจ", "สวยมาก ❤️"],
    "neg": ["แย่มาก 😡", "ไม่ชอบเลย", "terrible", "ผิดหวังมาก", "worst ever 👎", "ช้ามาก รอนาน", "ของเสีย 💩"],
    "neu": ["วันนี้ไปห้างมา", "ราคา 100 บาท", "news update", "ประกาศรับสมัครงาน", "โปรโมชั่นเดือนนี้", "เปิด 10 โมง"],
    "q": ["ราคาเท่าไหร่คะ?", "มีสาขาที่ไหนบ้าง?", "how much?", "ส่งฟรีไหมคะ?", "เปิดกี่โมง?"],
}
FILLER = ["เมื่อวาน", "ที่ร้าน", "กับเพื่อน", "lol", "555", "🤣", "จริงๆ", "สาขาสยาม", "นะ", "ok"]
# Imbalanced like the reference corpus: q is rare.
MIX = ["neu"] * 5 + ["neg"] * 3 + ["pos"] * 3 + ["q"]

TINY = {"epochs": 2, "batchSize": 16, "maxLength": 32, "hiddenSize": 32, "numLayers": 1, "numHeads": 2,
        "intermediateSize": 64, "vocabSize": 300, "lstmHidden": 16, "numWorkers": 0, "learningRate": 2e-3}


def make_rows(n: int, rng: random.Random) -> list[dict]:
    rows = []
    for _ in range(n):
        label = rng.choice(MIX)
        words = rng.sample(FILLER, rng.randint(0, 3)) + [rng.choice(PHRASES[label])]
        if rng.random() < 0.1:  # some rows longer than maxLength, so truncation is exercised
            words = words + rng.choices(FILLER, k=25)
        rng.shuffle(words)
        rows.append({"text": " ".join(words), "label": label})
    return rows


def write_dataset(folder: Path, sizes=(240, 48, 48), seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for name, n in zip(("train", "valid", "test"), sizes):
        with open(folder / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for row in make_rows(n, rng):
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return folder


def write_config(path: Path, params: dict | None = None, pretrained: str | None = None, **extra) -> Path:
    config = {"labels": LABELS, "datasetHash": "0" * 64, "pretrainedDir": pretrained, "params": {**TINY, **(params or {})}, **extra}
    path.write_text(json.dumps(config))
    return path


def run_job(config: Path, data: Path, out: Path, *more: str) -> tuple[int, str, str]:
    """Runs train.py's main() in this process; returns (exit code, stdout, stderr)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    saved = {s: signal.getsignal(s) for s in (signal.SIGUSR1, signal.SIGTERM)}
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(["--config", str(config), "--data-dir", str(data), "--out-dir", str(out), *more])
    finally:
        for s, handler in saved.items():  # main() installs its own; pytest's must come back
            signal.signal(s, handler)
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(autouse=True, scope="session")
def no_slurm_environment():
    """Running the suite inside a SLURM job must not make the job under test requeue the real one."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("SLURM_")}
    yield
    os.environ.update(saved)


@pytest.fixture(scope="session")
def dataset(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("data"))


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    env.update(extra)
    return env
