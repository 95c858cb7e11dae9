"""A tiny pretrained folder shaped like WangchanBERTa's or XLM-R's: a SentencePiece-style tokenizer
(Unigram model, Metaspace pre-tokenizer "▁", `<s> … </s>` template) and a small RobertaModel, both
built offline with `tokenizers` and `transformers`, no hub. The pytest suite fine-tunes from it
through `pretrainedDir`; test/integration/sentencepiece-pretrained.test.ts checks that Node tokenises it
exactly as Python does.

    .venv/bin/python slurm/tests/sentencepiece_fixture.py OUT_DIR TEXTS_JSONL [MAX_LENGTH]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

# XLM-R's order: <s>=0 <pad>=1 </s>=2 <unk>=3, <mask> after the pieces. pad id 1 is what RoBERTa's
# position ids assume, as in the real checkpoints.
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
VOCAB_SIZE = 600


def build_tokenizer(texts: list[str], max_length: int):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram())
    # The real ones use a Precompiled normaliser (sentencepiece's nmt_nfkc charsmap), which cannot
    # be built without sentencepiece; Nmt + NFKC + collapsed space runs is what the tokenizers
    # library's own SentencePiece trainer writes, and transformers.js lacks Nmt: the Node side
    # must rewrite it (adapters/scoring/sentencepiece-parity.ts).
    tok.normalizer = normalizers.Sequence([normalizers.Nmt(), normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(vocab_size=VOCAB_SIZE, special_tokens=SPECIALS, unk_token="<unk>",
                                      show_progress=False)
    tok.train_from_iterator(texts, trainer)
    tok.add_special_tokens(["<mask>"])
    bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
                                                       special_tokens=[("<s>", bos), ("</s>", eos)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=max_length, bos_token="<s>", eos_token="</s>",
                                   sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>",
                                   mask_token="<mask>")


def build(out: Path, texts: list[str], max_length: int = 64) -> Path:
    import torch
    from transformers import RobertaConfig, RobertaModel

    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(texts, max_length)
    tokenizer.save_pretrained(str(out))
    # What the hub's XLM-R folders name; the Node scorer maps it to its XLMRobertaTokenizer.
    config_path = out / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["tokenizer_class"] = "XLMRobertaTokenizerFast"
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")
    (out / "special_tokens_map.json").write_text(json.dumps(
        {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
         "cls_token": "<s>", "sep_token": "</s>"}), encoding="utf-8")
    torch.manual_seed(0)
    encoder = RobertaModel(RobertaConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=max_length + 2, type_vocab_size=1, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id), add_pooling_layer=False)
    encoder.save_pretrained(str(out))
    return out


if __name__ == "__main__":
    rows = [json.loads(line) for line in Path(sys.argv[2]).read_text(encoding="utf-8").splitlines() if line.strip()]
    build(Path(sys.argv[1]), [r["text"] for r in rows], int(sys.argv[3]) if len(sys.argv) > 3 else 64)
    print(json.dumps({"dir": sys.argv[1]}))
