"""bench/scoring.ts's peers, on the same model and texts: Python onnxruntime with the
`tokenizers` library (what a Python serving stack would run) and PyTorch eager on model.pt.
Prints one JSON object: for each runtime and batch size, texts per second, p50/p99 latency of
one call, and the share of time spent outside the model call (tokenising, padding, softmax).

    .venv/bin/python bench/scoring_peer.py MODEL_DIR TEXTS_JSON MAX_LENGTH BATCH [BATCH ...]
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from tokenizers import Tokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "slurm"))
from mlc_train.model import load_model  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def run(texts: list[str], batch: int, tokenizer: Tokenizer, pad_id: int, infer) -> dict:
    latencies, inside = [], 0.0
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        t0 = time.perf_counter()
        encoded = tokenizer.encode_batch(texts[i:i + batch])
        width = max(len(e.ids) for e in encoded)
        ids = np.full((len(encoded), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(encoded), width), dtype=np.int64)
        for row, e in enumerate(encoded):
            ids[row, :len(e.ids)] = e.ids
            mask[row, :len(e.ids)] = 1
        t1 = time.perf_counter()
        logits = infer(ids, mask)
        inside += time.perf_counter() - t1
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        _ = shifted / shifted.sum(axis=1, keepdims=True)
        latencies.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - started
    return {"textsPerSecond": len(texts) / total, "p50Ms": percentile(latencies, 50), "p99Ms": percentile(latencies, 99),
            "outsideShare": 1 - inside / total}


def main() -> None:
    model_dir, texts_file, max_length = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    batches = [int(b) for b in sys.argv[4:]]
    texts = json.loads(texts_file.read_text(encoding="utf-8"))
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length)
    pad_id = tokenizer.token_to_id("<pad>")
    session = ort.InferenceSession(str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}

    def onnx(ids, mask):
        feeds = {"input_ids": ids, **({"attention_mask": mask} if "attention_mask" in names else {})}
        return session.run(["logits"], feeds)[0]

    model, _ = load_model(model_dir / "model.pt")

    def eager(ids, mask):
        with torch.inference_mode():
            return model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()

    out = {"python-onnxruntime": {}, "pytorch-eager": {}}
    for batch in batches:
        run(texts[:64], batch, tokenizer, pad_id, onnx)  # warm-up
        out["python-onnxruntime"][batch] = run(texts, batch, tokenizer, pad_id, onnx)
        run(texts[:64], batch, tokenizer, pad_id, eager)
        out["pytorch-eager"][batch] = run(texts, batch, tokenizer, pad_id, eager)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
