"""Masked-language-model pretraining of the encoder on the training split's own texts, before the
classifier is fine-tuned (`mlmEpochs`; 0, the default, skips it). A from-scratch encoder otherwise
learns what Thai words mean only from 16,000 labelled rows and a 4-way signal; predicting masked
tokens first teaches it from every token of those rows. RoBERTa's masking: `mlmProbability` of the
real tokens are chosen, 80 % of them replaced by <mask>, 10 % by a random token, 10 % kept.

Durable like fine-tuning: after each pretraining epoch the encoder, its LM head, the optimizer and the
RNG go to checkpoints/pretrain-last.pt, so a preempted job resumes at its last finished epoch (the
epoch in flight is redone), and the finished encoder goes to checkpoints/pretrained.pt, which a
resumed job loads instead of pretraining again. Only the train split is read: the valid and test
texts stay unseen, as they are by the tokenizer."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from . import checkpoint
from .data import BucketBatchSampler, Encoded, PadCollator, TokenDataset
from .outputs import log, torch_save
from .signals import StopRequest, ignore_in_worker
from .trainer import autocast, make_optimizer, make_scheduler

LAST = "pretrain-last.pt"
DONE = "pretrained.pt"
# The fine-tuning sampler is seeded with (seed, epoch); pretraining draws its own orders.
SAMPLER_SEED_OFFSET = 7919


@dataclass
class PretrainOutcome:
    history: list[dict[str, Any]] = field(default_factory=list)  # per epoch: step, mlm_loss, mlm_accuracy
    seconds: float = 0.0
    interrupted_by: str | None = None


def mask_tokens(input_ids: torch.Tensor, attention_mask: torch.Tensor, mask_id: int, vocab_size: int,
                special_ids: torch.Tensor, probability: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns (inputs, targets): targets hold the original id where a token was chosen, -100 elsewhere.
    Special tokens (<s>, </s>, padding) are never chosen; random replacements come from the whole
    vocabulary, as in RoBERTa."""
    special = torch.isin(input_ids, special_ids) | (attention_mask == 0)
    chosen = (torch.rand(input_ids.shape, generator=generator) < probability) & ~special
    targets = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    roll = torch.rand(input_ids.shape, generator=generator)
    inputs = input_ids.clone()
    inputs[chosen & (roll < 0.8)] = mask_id
    randomized = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[randomized] = torch.randint(0, vocab_size, input_ids.shape, generator=generator)[randomized]
    return inputs, targets


def lm_head(encoder: torch.nn.Module) -> torch.nn.Module:
    """RoBERTa's own LM head, its output matrix tied to the input embeddings (as RobertaForMaskedLM ties them)."""
    from transformers.models.roberta.modeling_roberta import RobertaLMHead

    head = RobertaLMHead(encoder.config)
    head.decoder.weight = encoder.embeddings.word_embeddings.weight
    return head


def pretrain_encoder(encoder: torch.nn.Module, train: Encoded, tokenizer, setup, stop: StopRequest,
                     folder: Path, fingerprint: str) -> PretrainOutcome:
    p = setup.params
    done = folder / DONE
    if done.is_file():
        blob = torch.load(done, map_location=setup.device, weights_only=True)  # tensors and plain values only
        if blob.get("fingerprint") == fingerprint:
            encoder.load_state_dict(blob["encoder"])
            log(f"pretrained encoder loaded from {done} ({len(blob['history'])} epochs, not repeated)")
            return PretrainOutcome(blob["history"], blob["seconds"])

    head = lm_head(encoder)
    both = torch.nn.ModuleDict({"encoder": encoder, "head": head}).to(setup.device)
    batches_per_epoch = len(BucketBatchSampler(train.lengths, p["mlmBatchSize"], p["seed"] + SAMPLER_SEED_OFFSET, 0))
    optimizer = make_optimizer(both, {**p, "learningRate": p["mlmLearningRate"]})
    scheduler = make_scheduler(optimizer, batches_per_epoch * p["mlmEpochs"], p["warmupRatio"])
    generator = torch.Generator().manual_seed(p["seed"] + SAMPLER_SEED_OFFSET)
    outcome, first_epoch = PretrainOutcome(), 0

    resume = folder / LAST
    if resume.is_file():
        blob = torch.load(resume, map_location=setup.device, weights_only=False)  # our own file, with RNG state
        if blob.get("fingerprint") == fingerprint:
            both.load_state_dict(blob["model"])
            optimizer.load_state_dict(blob["optimizer"])
            scheduler.load_state_dict(blob["scheduler"])
            generator.set_state(blob["generator"])
            checkpoint.restore_rng(blob["rng"])
            outcome.history, outcome.seconds, first_epoch = blob["history"], blob["seconds"], blob["epoch"]
            log(f"resuming pretraining after epoch {first_epoch}/{p['mlmEpochs']}")

    special_ids = torch.tensor(sorted(set(tokenizer.all_special_ids)), dtype=torch.long)
    labels = np.zeros(len(train), dtype=np.int64)
    started, seconds_before = time.monotonic(), outcome.seconds
    for epoch in range(first_epoch, p["mlmEpochs"]):
        both.train()
        sampler = BucketBatchSampler(train.lengths, p["mlmBatchSize"], p["seed"] + SAMPLER_SEED_OFFSET, epoch)
        loader = DataLoader(TokenDataset(train, labels), batch_sampler=sampler, collate_fn=PadCollator(setup.pad_id),
                            num_workers=p["numWorkers"], worker_init_fn=ignore_in_worker if p["numWorkers"] else None)
        loss_sum, learned, hits, chosen = 0.0, 0, 0, 0
        for step, batch in enumerate(loader, 1):
            inputs, targets = mask_tokens(batch["input_ids"], batch["attention_mask"], tokenizer.mask_token_id,
                                          encoder.config.vocab_size, special_ids, p["mlmProbability"], generator)
            picked = targets != -100
            if picked.any():  # a batch of very short rows may draw no token at all: nothing to learn from
                with autocast(setup):
                    states = encoder(input_ids=inputs.to(setup.device),
                                     attention_mask=batch["attention_mask"].to(setup.device)).last_hidden_state
                    logits = head(states[picked.to(setup.device)])
                truth = targets[picked].to(setup.device)
                loss = torch.nn.functional.cross_entropy(logits.float(), truth)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(both.parameters(), p["gradClip"])
                optimizer.step()
                loss_sum, learned = loss_sum + loss.item(), learned + 1
                hits += int((logits.argmax(-1) == truth).sum())
                chosen += len(truth)
            scheduler.step()  # every batch, so the schedule's length is the epochs' batches
            if step % 200 == 0:
                log(f"pretrain step {step}/{batches_per_epoch} (epoch {epoch + 1}/{p['mlmEpochs']}) mlm_loss {loss_sum / max(1, learned):.4f}")
            if stop.requested:  # the epoch in flight is redone on resume; the finished ones are kept
                outcome.seconds = seconds_before + time.monotonic() - started
                outcome.interrupted_by = stop.name
                return outcome
        outcome.history.append({"epoch": epoch + 1, "step": (epoch + 1) * batches_per_epoch, "mlm_loss": loss_sum / max(1, learned),
                                "mlm_accuracy": hits / max(1, chosen)})
        outcome.seconds = seconds_before + time.monotonic() - started
        log(f"pretrain epoch {epoch + 1}/{p['mlmEpochs']} mlm_loss {outcome.history[-1]['mlm_loss']:.4f} "
            f"mlm_accuracy {outcome.history[-1]['mlm_accuracy']:.4f}")
        torch_save(resume, {"fingerprint": fingerprint, "epoch": epoch + 1, "model": both.state_dict(),
                            "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                            "generator": generator.get_state(), "rng": checkpoint.capture_rng(),
                            "history": outcome.history, "seconds": outcome.seconds})

    torch_save(done, {"fingerprint": fingerprint, "encoder": encoder.state_dict(), "history": outcome.history,
                      "seconds": outcome.seconds})
    resume.unlink(missing_ok=True)
    return outcome
