"""Domain adaptation: continued causal-LM training (LoRA) on an unlabelled documents folder,
measured as perplexity on held-out documents before and after.

Documents, not blocks, are held out: a block of a training document says nothing about how
well the model reads a document it has never seen.
"""

from __future__ import annotations

import math
import random
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import config
from ..cache import cache_key
from ..documents import load_corpus
from ..errors import DataError, ParameterError
from ..models import local_model_dir
from .settings import TrainSettings, trainable
from .train import Training, run


@dataclass
class Corpus:
    """Token blocks of the training documents and of the held-out documents."""

    train_blocks: list[list[int]]
    eval_blocks: list[list[int]]
    train_docs: list[str]
    eval_docs: list[str]
    fingerprint: str

    def tokens(self, which: str = "eval") -> int:
        blocks = self.eval_blocks if which == "eval" else self.train_blocks
        return sum(len(b) for b in blocks)


@dataclass
class Adaptation:
    """A domain-adaptation run: the training and held-out perplexity before and after."""

    training: Training
    corpus: Corpus
    perplexity_before: float
    perplexity_after: float

    def summary(self) -> str:
        change = self.perplexity_after / self.perplexity_before - 1
        return (
            f"Perplexity on {len(self.corpus.eval_docs)} held-out documents "
            f"({self.corpus.tokens():,} tokens): {self.perplexity_before:.2f} before, "
            f"{self.perplexity_after:.2f} after ({change:+.1%}); trained on "
            f"{len(self.corpus.train_docs)} documents ({self.corpus.tokens('train'):,} tokens)."
        )


def _blocks(tokenizer, texts: list[str], size: int) -> list[list[int]]:
    ids: list[int] = []
    for text in texts:
        ids += tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    blocks = [ids[i : i + size] for i in range(0, len(ids), size)]
    return [b for b in blocks if len(b) >= 16]  # a stub at the end carries no signal


def corpus(model_id: str, folder: str | Path, block: int, n_held_out: int, seed: int = 0) -> Corpus:
    """Split a documents folder into training and held-out documents (seeded) and cut each
    side into `block`-token blocks with the model's tokenizer."""
    from transformers import AutoTokenizer

    path = Path(folder) if Path(folder).is_absolute() else config.datasets_dir() / folder
    docs = load_corpus(path)
    if len(docs) < 2:
        raise DataError(f"{path}: {len(docs)} document(s); domain adaptation needs at least 2")
    if not 1 <= n_held_out < len(docs):
        raise ParameterError(
            f"parameter 'domain_held_out_docs' must be between 1 and {len(docs) - 1} "
            f"({len(docs)} documents in {path}), got {n_held_out}"
        )
    order = random.Random(seed).sample(docs, len(docs))
    held, train = order[:n_held_out], order[n_held_out:]
    tok = AutoTokenizer.from_pretrained(local_model_dir(trainable(model_id)))
    fingerprint = cache_key({d.id: d.text for d in docs})
    return Corpus(
        train_blocks=_blocks(tok, [d.text for d in train], block),
        eval_blocks=_blocks(tok, [d.text for d in held], block),
        train_docs=sorted(d.id for d in train),
        eval_docs=sorted(d.id for d in held),
        fingerprint=fingerprint,
    )


def perplexity(model, blocks: list[list[int]], batch_size: int = 8) -> float:
    """exp of the mean next-token negative log-likelihood over every token of `blocks`."""
    import torch

    total, count = 0.0, 0
    device = next(model.parameters()).device
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(blocks), batch_size):
            chunk = blocks[start : start + batch_size]
            width = max(len(b) for b in chunk)
            ids = torch.zeros((len(chunk), width), dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for row, b in enumerate(chunk):
                ids[row, : len(b)], mask[row, : len(b)] = torch.tensor(b), 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
            target = ids[:, 1:].to(device)
            nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
            keep = mask[:, 1:].to(device).bool()
            total += float(nll[keep].sum())
            count += int(keep.sum())
    return math.exp(total / count)


def adapt(
    model_id: str,
    folder: str | Path,
    cfg: TrainSettings,
    n_held_out: int,
    retrain: bool = False,
    progress: bool | None = None,
) -> Adaptation:
    """Train a LoRA adapter on the documents and measure held-out perplexity before and after."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    docs = corpus(model_id, folder, cfg.max_length, n_held_out, cfg.seed)
    if not docs.train_blocks or not docs.eval_blocks:
        raise DataError(f"{folder}: too little text for blocks of {cfg.max_length} tokens")
    rows: list[dict[str, Any]] = [{"input_ids": b} for b in docs.train_blocks]
    evals: list[dict[str, Any]] = [{"input_ids": b} for b in docs.eval_blocks]
    training = run(
        model_id,
        rows,
        evals,
        cfg,
        kind="domain",
        retrain=retrain,
        fingerprints={"documents": docs.fingerprint},
        progress=progress,
    )
    base = AutoModelForCausalLM.from_pretrained(local_model_dir(model_id), dtype=torch.float32)
    before = perplexity(base, docs.eval_blocks)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`is_gradient_checkpointing`", FutureWarning)
        tuned = PeftModel.from_pretrained(base, training.adapter_dir)
    after = perplexity(tuned, docs.eval_blocks)
    return Adaptation(training, docs, before, after)
