"""A tiny stand-in for a pretrained Thai RoBERTa such as WangchanBERTa, built here without a hub:
a SentencePiece-style tokenizer (a Unigram model behind the Metaspace pre-tokenizer, "▁" for
spaces, XLM-R's special tokens and ids) and a small randomly initialised RobertaModel, saved as
`save_pretrained` folders are. train.py's pretrainedDir path and the Node scorer must handle this
tokenizer type exactly as they handle our byte-level BPE.

    .venv/bin/python slurm/tests/sentencepiece_folder.py OUT_DIR [TEXTS.jsonl]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

# XLM-R's order, which WangchanBERTa shares: <s>=0, <pad>=1, </s>=2, <unk>=3; <mask> last.
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


def build(folder: Path, texts: list[str], vocab_size: int = 600, hidden: int = 32, max_positions: int = 130) -> Path:
    from tokenizers import SentencePieceUnigramTokenizer, processors
    from transformers import RobertaConfig, RobertaModel, XLMRobertaTokenizerFast

    sp = SentencePieceUnigramTokenizer(replacement="▁", add_prefix_space=True)
    sp.train_from_iterator(texts, vocab_size=vocab_size, special_tokens=SPECIALS, unk_token="<unk>", show_progress=False)
    sp.add_special_tokens(["<mask>"])
    tok = sp._tokenizer
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))])
    fast = XLMRobertaTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                                   cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    folder.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(folder)
    config = RobertaConfig(vocab_size=len(fast), hidden_size=hidden, num_hidden_layers=1, num_attention_heads=2,
                           intermediate_size=2 * hidden, max_position_embeddings=max_positions,
                           pad_token_id=fast.pad_token_id, bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id)
    RobertaModel(config).save_pretrained(folder)
    return folder


if __name__ == "__main__":
    out = Path(sys.argv[1])
    source = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parents[2] / "data/wisesight-sample/train.jsonl"
    lines = source.read_text(encoding="utf-8").splitlines()
    build(out, [json.loads(line)["text"] for line in lines if line.strip()])
    print(json.dumps({"dir": str(out)}))
