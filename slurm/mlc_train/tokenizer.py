"""Byte-level BPE tokenizer: trained on the train split when there is no pretrained model (bytes
cover Thai, emoji and English alike, so nothing is ever <unk>), saved in the layout that both
transformers (Python) and @huggingface/transformers (Node, AutoTokenizer on a local folder) load."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .errors import ConfigError
from .outputs import sha256_file, write_json

SPECIAL_TOKENS = {"bos_token": "<s>", "pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>",
                  "mask_token": "<mask>", "cls_token": "<s>", "sep_token": "</s>"}
# RoBERTa's order: <s>=0 <pad>=1 </s>=2 <unk>=3 <mask>=4; pad id 1 is what its position ids assume.
SPECIAL_ORDER = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


# GPT-2's pre-tokenizer splits at every change between letters (\p{L}) and marks (\p{M}); Thai vowels
# and tone marks are marks, so "ที่" arrives at BPE as "ท" + "ี่" and no merge can learn a Thai word.
# This pattern keeps letters and their marks in one piece (and still splits at spaces, digits and
# symbols); the byte-level step after it has no regex of its own. Both Python's tokenizers and
# transformers.js read this Split ("isolated") + ByteLevel(use_regex=false) from tokenizer.json.
LETTERS_WITH_MARKS = r" ?[\p{L}\p{M}]+| ?\p{N}+| ?[^\s\p{L}\p{M}\p{N}]+|\s+"


def pre_tokenizer(kind: str):
    from tokenizers import Regex, pre_tokenizers

    if kind == "letters-with-marks":
        return pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LETTERS_WITH_MARKS), behavior="isolated"),
                                        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    return pre_tokenizers.ByteLevel(add_prefix_space=False)  # "gpt2"


def train_bpe(texts: list[str], vocab_size: int, max_length: int, pre_tokenization: str = "gpt2"):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizer(pre_tokenization)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_ORDER,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    # Encoding adds <s> ... </s> itself, so every consumer of tokenizer.json gets the same ids.
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")),
                                                      trim_offsets=True, add_prefix_space=False)
    return PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=max_length, **SPECIAL_TOKENS)


def load_tokenizer(folder: Path, max_length: int):
    """Loads tokenizer.json from a local folder (a pretrained model's, or our own output on resume).
    Special tokens come from the folder's own maps when it has them, else RoBERTa's."""
    from transformers import PreTrainedTokenizerFast

    specials = dict(SPECIAL_TOKENS)
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        path = folder / name
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            for key in SPECIAL_TOKENS:
                value = data.get(key)
                value = value.get("content") if isinstance(value, dict) else value
                if isinstance(value, str):
                    specials[key] = value
    tok = PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"), model_max_length=max_length, **specials)
    if tok.pad_token_id is None:
        raise ConfigError(f"pretrainedDir: {folder / 'tokenizer.json'} has no pad token {specials['pad_token']!r}")
    return tok


def save_tokenizer(tok, out_dir: Path) -> str:
    """Writes the three tokenizer files atomically; returns the sha256 of tokenizer.json (the cache key).
    Call before encoding anything: encoding with truncation would be serialized into tokenizer.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".tokenizer.", dir=out_dir) as tmp:
        tok.save_pretrained(tmp)
        if not (Path(tmp) / "special_tokens_map.json").exists():
            # transformers 5 stopped writing it; older readers (and our contract) still expect it.
            write_json(Path(tmp) / "special_tokens_map.json",
                       {k: v for k, v in tok.special_tokens_map.items() if isinstance(v, str)})
        for name in TOKENIZER_FILES:
            os.replace(Path(tmp) / name, out_dir / name)  # same filesystem: each rename is atomic
    return sha256_file(out_dir / "tokenizer.json")
