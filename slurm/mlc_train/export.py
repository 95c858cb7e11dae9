"""ONNX export and the parity check that makes the export trustworthy: everything downstream
(evaluation, the local endpoint, Azure ML) scores with the .onnx file, never with PyTorch.

The graph has two outputs: `logits` first (what every consumer reads by name), then `embedding`,
the pooled text representation the classifier reads, for embedding-drift monitoring. Beside the
fp32 file the job writes an int8 one (dynamic quantisation): evaluation scores both and the spec's
`serving.precision` picks the one that is deployed (deploy.json)."""
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


DEPLOY_FILE = "deploy.json"  # which ONNX file serves: read by the Node scorer and the Azure package
PRECISION_FILES = {"fp32": "model.onnx", "int8": "model.int8.onnx"}
OUTPUT_NAMES = ["logits", "embedding"]


class _LogitsAndEmbedding(torch.nn.Module):
    """What the exported graph computes: the model's forward, and the pooled vector it classifies."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        pooled = self.model.pooled(input_ids, attention_mask)
        return self.model.classifier(self.model.dropout(pooled)), pooled


def export_onnx(model: torch.nn.Module, target: Path, pad_id: int) -> None:
    model = model.float().cpu().eval()
    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 2, pad_id, pad_id]], dtype=torch.long)
    mask = (ids != pad_id).long()
    # Traced with transformers' plain ("eager") attention rather than its default SDPA, whose
    # traced form adds NaN guards and mask ops around each softmax: the same logits (within 4e-7
    # on the demo model), 49 fewer nodes, 6-7 % more texts/s in onnxruntime's model call alone and
    # 1-5 % through the Node scorer (bench/README.md, "scoring").
    attention = model.encoder.config._attn_implementation
    model.encoder.set_attn_implementation("eager")
    try:
        _trace(model, target, ids, mask)
    finally:
        model.encoder.set_attn_implementation(attention)


def _trace(model: torch.nn.Module, target: Path, ids: torch.Tensor, mask: torch.Tensor) -> None:
    with atomic_path(target) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about shape-dependent Python branches
        # The TorchScript exporter: it handles nn.LSTM and RoBERTa's masks with dynamic axes, and
        # unlike dynamo=True it needs no onnxscript on the cluster.
        torch.onnx.export(
            _LogitsAndEmbedding(model), (ids, mask), str(tmp),
            input_names=["input_ids", "attention_mask"], output_names=OUTPUT_NAMES,
            dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                          "logits": {0: "batch"}, "embedding": {0: "batch"}},
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
    wrapped = _LogitsAndEmbedding(model)
    with torch.no_grad():
        scored = [wrapped(torch.from_numpy(r)[None], torch.ones(1, len(r), dtype=torch.long)) for r in rows]
    reference = np.concatenate([logits.numpy() for logits, _ in scored])
    reference_embedding = np.concatenate([pooled.numpy() for _, pooled in scored])

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    worst, worst_embedding, agree, compared = 0.0, 0.0, 0, 0
    for batch_size, extra in ((8, 0), (5, 7), (16, max_length)):
        for start in range(0, len(rows), batch_size):
            chunk = rows[start:start + batch_size]
            width = min(max(len(r) for r in chunk) + extra, max_length)  # rows are already truncated to max_length
            ids, mask = _padded(chunk, width, pad_id)
            logits, embedding = session.run(OUTPUT_NAMES, {"input_ids": ids, "attention_mask": mask})
            expected = reference[start:start + len(chunk)]
            worst = max(worst, float(np.abs(logits - expected).max()))
            worst_embedding = max(worst_embedding, float(np.abs(embedding - reference_embedding[start:start + len(chunk)]).max()))
            agree += int((logits.argmax(1) == expected.argmax(1)).sum())
            compared += len(chunk)
    return {"max_abs_logit_diff": worst, "max_abs_embedding_diff": worst_embedding, "label_agreement": agree / compared,
            "n": len(rows)}


def quantize_int8(fp32_path: Path, target: Path) -> None:
    """Dynamic quantisation: int8 weights, activations quantised per batch at run time, so no
    calibration data is needed. Quantises MatMul/Gather (the encoder, the embeddings) and the LSTMs."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger().level
    with atomic_path(target) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # It logs "consider pre-processing" on the root logger; that (quant_pre_process) bought nothing
        # on this model (bench/README.md), so the job log stays clean.
        logging.getLogger().setLevel(logging.ERROR)
        try:
            # Per channel: each output column its own scale, which keeps larger pretrained encoders accurate.
            # reduce_range: 7-bit weights. The file is served on CPUs the job never sees, and on x86
            # without VNNI (AVX2 only, as on many AMD EPYC VMs) onnxruntime's u8×s8 kernel adds
            # products in saturating 16-bit pairs: with full 8-bit weights the demo model's logits
            # moved 0.26 from fp32 there, and a small model's labels agreed on 34 % of texts
            # (bench/README.md, "scoring"); with 7 bits, 0.04 and 99 %. VNNI CPUs lose one bit of
            # weight precision.
            quantize_dynamic(str(fp32_path), str(tmp), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
        finally:
            logging.getLogger().setLevel(quiet)


def compare_int8(fp32_path: Path, int8_path: Path, encoded: Encoded, pad_id: int) -> dict:
    """How far the int8 model moves from the fp32 one on the held-out rows. Not a gate: quantisation
    changes logits by design; the evaluation judges both on the test split and the spec chooses."""
    import onnxruntime as ort

    rows = [encoded.row(i).astype(np.int64) for i in range(min(PARITY_ROWS, len(encoded)))]
    outputs = []
    for path in (fp32_path, int8_path):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        ids, mask = _padded(rows, max(len(r) for r in rows), pad_id)
        outputs.append(session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0])
    fp32, int8 = outputs
    return {"max_abs_logit_diff": float(np.abs(fp32 - int8).max()),
            "label_agreement": float((fp32.argmax(1) == int8.argmax(1)).mean()), "n": len(rows),
            "bytes_fp32": fp32_path.stat().st_size, "bytes_int8": int8_path.stat().st_size}


def assert_parity(result: dict) -> None:
    embedding_diff = result.get("max_abs_embedding_diff", 0.0)
    if (result["max_abs_logit_diff"] > MAX_ABS_LOGIT_DIFF or result["label_agreement"] < MIN_LABEL_AGREEMENT
            or embedding_diff > MAX_ABS_LOGIT_DIFF):
        raise ParityError(
            f"ONNX export does not match PyTorch on {result['n']} held-out texts: max |logit diff| "
            f"{result['max_abs_logit_diff']:.3g} (bound {MAX_ABS_LOGIT_DIFF:g}), max |embedding diff| "
            f"{embedding_diff:.3g} (bound {MAX_ABS_LOGIT_DIFF:g}), label agreement "
            f"{result['label_agreement']:.4f} (bound {MIN_LABEL_AGREEMENT}). The model.pt is fine; the exporter "
            f"(torch {torch.__version__}, opset {OPSET}) is not: report it with this message.")
