"""The exported ONNX graph's contract: `logits` first (every consumer reads it by name), then
`embedding`, equal to PyTorch's pooled vector; an int8 copy beside it; deploy.json naming the file
the spec chose to serve."""
import json
import random

import numpy as np
import onnxruntime as ort
import pytest
import torch

from conftest import LABELS, TINY, make_rows, run_job, write_config
from mlc_train.data import Encoded
from mlc_train.export import OUTPUT_NAMES, check_parity, compare_int8, export_onnx, quantize_int8
from mlc_train.model import build_model
from mlc_train.tokenizer import train_bpe


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """An untrained (seeded) model is enough: the export must reproduce whatever weights it has."""
    torch.manual_seed(3)
    texts = [r["text"] for r in make_rows(200, random.Random(1))]
    tok = train_bpe(texts, TINY["vocabSize"], TINY["maxLength"])
    model = build_model({**TINY, "dropout": 0.1}, len(LABELS), tok, None).eval()
    folder = tmp_path_factory.mktemp("export")
    export_onnx(model, folder / "model.onnx", tok.pad_token_id)
    rows = tok(texts[:40], truncation=True, max_length=TINY["maxLength"])["input_ids"]
    return model, folder, Encoded.from_lists(rows), tok.pad_token_id


def test_outputs_are_logits_then_embedding(exported):
    _, folder, _, _ = exported
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["logits", "embedding"] == OUTPUT_NAMES
    assert session.get_outputs()[0].shape == ["batch", len(LABELS)]
    ids = np.array([[0, 5, 6, 2]], dtype=np.int64)
    _, embedding = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
    assert embedding.shape == (1, 2 * TINY["lstmHidden"])  # the BiLSTM's pooled output


def test_attention_is_traced_plainly_and_the_model_keeps_its_own(exported):
    """The graph carries transformers' plain attention, not SDPA's traced NaN guards (IsNaN), and
    the module goes back to the attention it had, for whatever runs after the export."""
    import onnx

    model, folder, _, _ = exported
    ops = {n.op_type for n in onnx.load(str(folder / "model.onnx")).graph.node}
    assert "Softmax" in ops and "IsNaN" not in ops
    assert model.encoder.config._attn_implementation != "eager"


def test_embedding_matches_pytorch_pooled_output_in_padded_batches(exported):
    model, folder, encoded, pad_id = exported
    parity = check_parity(model, folder / "model.onnx", encoded, pad_id, TINY["maxLength"])
    assert parity["max_abs_embedding_diff"] <= 1e-4 and parity["max_abs_logit_diff"] <= 1e-4
    # And directly, against the module's own pooled(): one padded batch.
    rows = [encoded.row(i).astype(np.int64) for i in range(8)]
    width = max(len(r) for r in rows)
    ids = np.full((8, width), pad_id, dtype=np.int64)
    mask = np.zeros_like(ids)
    for i, r in enumerate(rows):
        ids[i, :len(r)], mask[i, :len(r)] = r, 1
    logits, embedding = ort.InferenceSession(str(folder / "model.onnx")).run(None, {"input_ids": ids, "attention_mask": mask})
    with torch.no_grad():
        pooled = model.pooled(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
        expected_logits = model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    np.testing.assert_allclose(embedding, pooled, atol=1e-4)
    np.testing.assert_allclose(logits, expected_logits, atol=1e-4)


@pytest.fixture(scope="module")
def int8(exported):
    """The int8 copy, quantized once, and how far it moves from fp32."""
    _, folder, encoded, pad_id = exported
    quantize_int8(folder / "model.onnx", folder / "model.int8.onnx")
    return folder, compare_int8(folder / "model.onnx", folder / "model.int8.onnx", encoded, pad_id)


def test_int8_copy_keeps_both_outputs_and_is_smaller(int8):
    folder, result = int8
    session = ort.InferenceSession(str(folder / "model.int8.onnx"), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["logits", "embedding"]
    assert any(n.op_type.startswith("DynamicQuantize") or n.op_type == "MatMulInteger"
               for n in __import__("onnx").load(str(folder / "model.int8.onnx")).graph.node)
    assert result["n"] == 40 and 0 <= result["label_agreement"] <= 1
    assert result["bytes_int8"] < result["bytes_fp32"]


def test_int8_weights_fit_seven_bits(int8):
    """Without VNNI, onnxruntime's u8×s8 kernel saturates 16-bit pair sums of full 8-bit weights
    (export.py); 7-bit weights cannot. Checked on the file, so it holds whatever this CPU has."""
    import onnx
    from onnx import numpy_helper

    folder, result = int8
    weights = [numpy_helper.to_array(t) for t in onnx.load(str(folder / "model.int8.onnx")).graph.initializer
               if t.data_type == onnx.TensorProto.INT8 and t.name.endswith("_quantized")]
    # onnxruntime's reduced int8 range is [-64, 64]: two products of a uint8 activation and such a
    # weight add up to at most 2·255·64 = 32,640, inside int16.
    assert weights and all(np.abs(w.astype(np.int32)).max() <= 64 for w in weights)
    assert result["max_abs_logit_diff"] < 0.05


def test_a_run_writes_the_int8_file_and_the_spec_choice(tmp_path, dataset):
    config = write_config(tmp_path / "c.json", {"epochs": 1}, serving={"precision": "int8"})
    code, log, err = run_job(config, dataset, tmp_path / "out")
    assert code == 0, err
    out = tmp_path / "out"
    assert json.loads((out / "deploy.json").read_text()) == {"precision": "int8", "file": "model.int8.onnx"}
    assert (out / "model.int8.onnx").is_file() and "onnx int8 label_agreement" in log
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["onnx_int8"]) == {"max_abs_logit_diff", "label_agreement", "n", "bytes_fp32", "bytes_int8"}
    assert metrics["onnx_parity"]["max_abs_embedding_diff"] <= 1e-3


@pytest.mark.parametrize("serving", [{"precision": "fp16"}, {"precision": "int8", "x": 1}, "int8"])
def test_a_bad_serving_choice_exits_2_naming_the_field(tmp_path, dataset, serving):
    code, _, err = run_job(write_config(tmp_path / "c.json", serving=serving), dataset, tmp_path / "out")
    assert code == 2 and "serving: must be" in err and "fp32" in err
