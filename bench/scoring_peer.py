"""bench/scoring.ts's peers, on the same model and texts: Python onnxruntime with the
`tokenizers` library (what a Python serving stack would run), the same with model.int8.onnx when
the run has it, and PyTorch eager on model.pt. Prints one JSON object: for each runtime and batch
size, texts per second (wall and per CPU-second), p50/p99 latency of one call, the share of time
spent outside the model call (tokenising, padding, softmax), and macro-F1 on the texts' labels.

    .venv/bin/python bench/scoring_peer.py MODEL_DIR TEXTS_JSON MAX_LENGTH BATCH [BATCH ...]
TEXTS_JSON: {"texts": [...], "truth": [...]} (or a plain list of texts).
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


def macro_f1(labels: list[str], truth: list[str], predicted: list[str]) -> float:
    scores = []
    for label in labels:
        tp = sum(p == label == t for p, t in zip(predicted, truth))
        wrong = sum((p == label) != (t == label) for p, t in zip(predicted, truth))
        scores.append(2 * tp / (2 * tp + wrong) if tp else 0.0)
    return sum(scores) / len(scores)


def run(texts: list[str], batch: int, tokenizer: Tokenizer, pad_id: int, infer, labels=None, truth=None) -> dict:
    latencies, inside, predicted = [], 0.0, []
    cpu = time.process_time()
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
        probabilities = shifted / shifted.sum(axis=1, keepdims=True)
        predicted += probabilities.argmax(axis=1).tolist()
        latencies.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - started
    figures = {"textsPerSecond": len(texts) / total, "textsPerCpuSecond": len(texts) / (time.process_time() - cpu),
               "p50Ms": percentile(latencies, 50), "p99Ms": percentile(latencies, 99), "outsideShare": 1 - inside / total}
    if labels and truth and all(truth):
        figures["macroF1"] = macro_f1(labels, truth, [labels[i] for i in predicted])
    return figures


def main() -> None:
    model_dir, texts_file, max_length = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    warm_all = "--warm-all" in sys.argv[4:]
    batches = [int(b) for b in sys.argv[4:] if b != "--warm-all"]
    given = json.loads(texts_file.read_text(encoding="utf-8"))
    texts, truth = (given["texts"], given.get("truth")) if isinstance(given, dict) else (given, None)
    labels = json.loads((model_dir / "labels.json").read_text(encoding="utf-8"))
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length)
    pad_id = tokenizer.token_to_id("<pad>")
    def onnx_runner(file: str):
        session = ort.InferenceSession(str(model_dir / file), providers=["CPUExecutionProvider"])
        names = {i.name for i in session.get_inputs()}

        def onnx(ids, mask):
            feeds = {"input_ids": ids, **({"attention_mask": mask} if "attention_mask" in names else {})}
            return session.run(["logits"], feeds)[0]
        return onnx

    onnx = {"python-onnxruntime": onnx_runner("model.onnx")}
    if (model_dir / "model.int8.onnx").is_file():
        onnx["python-onnxruntime-int8"] = onnx_runner("model.int8.onnx")

    model, _ = load_model(model_dir / "model.pt")

    def eager(ids, mask):
        with torch.inference_mode():
            return model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()

    out = {**{name: {} for name in onnx}, "pytorch-eager": {}}
    for batch in batches:
        for name, infer in onnx.items():
            run(texts if warm_all else texts[:64], batch, tokenizer, pad_id, infer)  # warm-up
            out[name][batch] = run(texts, batch, tokenizer, pad_id, infer, labels, truth)
        run(texts[:64], batch, tokenizer, pad_id, eager)
        out["pytorch-eager"][batch] = run(texts, batch, tokenizer, pad_id, eager)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
