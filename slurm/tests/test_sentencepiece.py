"""The pretrained path with a SentencePiece-style tokenizer (Unigram + Metaspace, as WangchanBERTa's
and XLM-R's are): train.py fine-tunes from a local folder built offline by sentencepiece_fixture.py."""
import json
import random

import torch

from conftest import make_rows, run_job, write_config
import mlc_train.pretrain as pretrain
from mlc_train.model import load_model
from mlc_train.tokenizer import load_tokenizer
from sentencepiece_fixture import build


def test_fine_tunes_from_a_sentencepiece_pretrained_folder(tmp_path, dataset):
    folder = build(tmp_path / "wangchan-like", [r["text"] for r in make_rows(400, random.Random(5))], max_length=64)
    tokenizer = load_tokenizer(folder, 64)
    backend = json.loads(tokenizer.backend_tokenizer.to_str())
    assert backend["model"]["type"] == "Unigram" and backend["pre_tokenizer"]["type"] == "Metaspace"
    assert (tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id) == (1, 0, 2)
    ids = tokenizer("อร่อยมาก love it")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2 and tokenizer.convert_ids_to_tokens(ids)[1].startswith("▁")

    config = write_config(tmp_path / "config.json", {"epochs": 1, "maxLength": 64}, pretrained=str(folder))
    code, log, err = run_job(config, dataset, tmp_path / "out")
    assert code == 0, err
    out = tmp_path / "out"
    # The run keeps the pretrained tokenizer, byte for byte in what it encodes: the scorer loads it from here.
    saved = json.loads((out / "tokenizer.json").read_text(encoding="utf-8"))
    assert saved["model"]["type"] == "Unigram" and saved["model"]["vocab"] == backend["model"]["vocab"]
    tuned, blob = load_model(out / "model.pt")
    assert blob["pad_token_id"] == 1 and tuned.encoder.config.vocab_size == len(tokenizer)
    from safetensors.torch import load_file

    start = load_file(str(folder / "model.safetensors"))
    key = next(k for k in start if k.endswith("word_embeddings.weight"))
    assert not torch.equal(start[key], tuned.encoder.state_dict()["embeddings.word_embeddings.weight"])  # fine-tuned
    assert json.loads((out / "DONE").read_text())["status"] == "done"


def test_continues_pretraining_a_sentencepiece_model_on_the_corpus_before_fine_tuning(tmp_path, dataset, monkeypatch):
    """Domain-adaptive pretraining: mlmEpochs on a pretrained folder masks with its own <mask> id and
    keeps its special tokens, wherever its vocabulary puts them, out of the masking."""
    folder = build(tmp_path / "wangchan-like", [r["text"] for r in make_rows(400, random.Random(5))], max_length=64)
    tokenizer = load_tokenizer(folder, 64)
    seen = []
    real = pretrain.mask_tokens

    def recording(input_ids, attention_mask, mask_id, vocab_size, special_ids, *rest):
        seen.append((mask_id, vocab_size, set(special_ids.tolist())))
        return real(input_ids, attention_mask, mask_id, vocab_size, special_ids, *rest)

    monkeypatch.setattr(pretrain, "mask_tokens", recording)
    config = write_config(tmp_path / "config.json", {"epochs": 1, "maxLength": 64, "mlmEpochs": 2, "mlmBatchSize": 16},
                          pretrained=str(folder))
    code, log, err = run_job(config, dataset, tmp_path / "out")
    assert code == 0, err
    assert "pretrain epoch 2/2" in log
    history = json.loads((tmp_path / "out" / "metrics.json").read_text())["pretrain"]["history"]
    assert [h["epoch"] for h in history] == [1, 2] and all(h["mlm_loss"] > 0 for h in history)
    assert seen and all(s == (tokenizer.mask_token_id, len(tokenizer), set(tokenizer.all_special_ids)) for s in seen)
