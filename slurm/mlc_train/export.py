"""ONNX export and the parity check that makes the export trustworthy: everything downstream
(evaluation, the local endpoint, Azure ML) scores with the .onnx file, never with PyTorch."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from .data import Encoded
from .errors import ParityError
from .outputs import atomic_path

OPSET = 17
MAX_ABS_LOGIT_DIFF = 1e-3  # the exported graph is always fp32, whatever precision training used
MIN_LABEL_AGREEMENT = 0.99
PARITY_ROWS = 64


def export_onnx(model: torch.nn.Module, target: Path, pad_id: int) -> None:
    model = model.float().cpu().eval()
    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 2, pad_id, pad_id]], dtype=torch.long)
    mask = (ids != pad_id).long()
    with atomic_path(target) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about shape-dependent Python branches
        # The TorchScript exporter: it handles nn.LSTM and RoBERTa's masks with dynamic axes, and
        # unlike dynamo=True it needs no onnxscript on the cluster.
        torch.onnx.export(
            model, (ids, mask), str(tmp),
            input_names=["input_ids", "attention_mask"], output_names=["logits"],
            dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                          "logits": {0: "batch"}},
            opset_version=OPSET, dynamo=False,
        )


def _padded(rows: list[np.ndarray], width: int, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for r, row in enumerate(rows):
        ids[r, :len(row)], mask[r, :len(row)] = row, 1
    return ids, mask


def check_parity(model: torch.nn.Module, onnx_path: Path, encoded: Encoded, pad_id: int, max_length: int) -> dict:
    """Scores up to 64 held-out texts with PyTorch one text at a time (no padding at all) and with
    onnxruntime in batches padded to several widths. Comparing across paddings checks the export and
    that a text's score does not depend on the batch it is scored in."""
    import onnxruntime as ort

    model = model.float().cpu().eval()
    rows = [encoded.row(i).astype(np.int64) for i in range(min(PARITY_ROWS, len(encoded)))]
    if not rows:
        raise ParityError("no held-out texts to check the ONNX export against (test.jsonl and valid.jsonl are empty)")
    with torch.no_grad():
        reference = np.concatenate([model(torch.from_numpy(r)[None], torch.ones(1, len(r), dtype=torch.long)).numpy() for r in rows])

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    worst, agree, compared = 0.0, 0, 0
    for batch_size, extra in ((8, 0), (5, 7), (16, max_length)):
        for start in range(0, len(rows), batch_size):
            chunk = rows[start:start + batch_size]
            width = min(max(len(r) for r in chunk) + extra, max_length)  # rows are already truncated to max_length
            ids, mask = _padded(chunk, width, pad_id)
            logits = session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
            expected = reference[start:start + len(chunk)]
            worst = max(worst, float(np.abs(logits - expected).max()))
            agree += int((logits.argmax(1) == expected.argmax(1)).sum())
            compared += len(chunk)
    return {"max_abs_logit_diff": worst, "label_agreement": agree / compared, "n": len(rows)}


def assert_parity(result: dict) -> None:
    if result["max_abs_logit_diff"] > MAX_ABS_LOGIT_DIFF or result["label_agreement"] < MIN_LABEL_AGREEMENT:
        raise ParityError(
            f"ONNX export does not match PyTorch on {result['n']} held-out texts: max |logit diff| "
            f"{result['max_abs_logit_diff']:.3g} (bound {MAX_ABS_LOGIT_DIFF:g}), label agreement "
            f"{result['label_agreement']:.4f} (bound {MIN_LABEL_AGREEMENT}). The model.pt is fine; the exporter "
            f"(torch {torch.__version__}, opset {OPSET}) is not: report it with this message.")
