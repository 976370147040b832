"""In-process generation with `transformers`: batched, left-padded, chat-templated, on the free
cores (`cpu.free_cores`), with constrained JSON decoding (xgrammar) and label log-probabilities.

No wall-clock timeout: the work is local, a busy CPU only makes it slower, and a batch that
was computed must never be thrown away.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from typing import Any

from .. import cpu, registry
from ..errors import ProviderError
from ..models import ModelSpec, local_model_dir, weights_fingerprint
from ._types import Provider, Request, Response


class _FirstTokenClock:
    """StoppingCriteria that notes when the first new token was produced (TTFT)."""

    def __init__(self) -> None:
        self.first: float | None = None

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        if self.first is None:
            self.first = time.perf_counter()
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


@registry.provider(
    "transformers",
    local=True,
    description="in-process transformers model from an installed wheel (GGUF converted once)",
)
class TransformersProvider(Provider):
    """In-process generation with batched `generate` on a converted local model."""

    max_concurrency = 1
    remote = False
    capabilities = frozenset({"generate", "local_logprobs", "constrained_decoding", "batching"})

    def __init__(self, spec: ModelSpec, batch_size: int = 16):
        super().__init__(spec)
        self.max_batch = batch_size
        self._lock = threading.Lock()
        self._model = None
        self._tokenizer = None
        self._compiler = None
        self.fingerprint = weights_fingerprint(spec)

    def identity(self) -> dict[str, Any]:
        identity = {**super().identity(), "weights_sha256": self.fingerprint}
        if self.spec.adapter:  # a tuned model answers differently: its own cache entries
            identity["adapter_sha256"] = self.spec.adapter_sha256
        return identity

    def load(self):
        """Load tokenizer and model once (converting the GGUF on first use)."""
        with self._lock:
            if self._model is None:
                import torch

                # Imported here, under the lock: transformers' lazy imports are not thread-safe.
                from transformers import (
                    AutoModelForCausalLM,
                    AutoTokenizer,
                    StoppingCriteriaList,
                    set_seed,
                )
                from transformers.utils import logging as hf_logging

                self._criteria_list, self._set_seed = StoppingCriteriaList, set_seed
                if os.environ.get("WORKBENCH_HEADLESS"):
                    hf_logging.disable_progress_bar()

                folder = local_model_dir(self.spec)
                tok = AutoTokenizer.from_pretrained(folder, padding_side="left")
                if tok.pad_token is None:
                    tok.pad_token = tok.eos_token
                model = AutoModelForCausalLM.from_pretrained(
                    folder, dtype=torch.float32, device_map="auto"
                )
                model.eval()
                self._tokenizer, self._model = tok, model
        return self._model, self._tokenizer

    @property
    def device(self) -> str:
        model, _ = self.load()
        return str(model.device)

    async def generate_batch(self, requests: list[Request], timeout: float) -> list[Response]:
        if any(r.tools for r in requests):
            raise ProviderError(
                f"{self.spec.id}: no tool-calling API in process; ask for the call with a JSON "
                "schema (response_format), which constrained decoding follows"
            )
        return await asyncio.to_thread(self._generate_sync, requests, timeout)

    def _generate_sync(self, requests: list[Request], timeout: float) -> list[Response]:
        import torch

        model, tok = self.load()
        StoppingCriteriaList, set_seed = self._criteria_list, self._set_seed
        first = requests[0]
        stop = [*self.spec.stop, *first.stop]
        prompts = [
            tok.apply_chat_template(r.messages, add_generation_prompt=True, tokenize=False)
            for r in requests
        ]
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(
            model.device
        )
        clock = _FirstTokenClock()
        kwargs: dict[str, Any] = {
            "max_new_tokens": first.max_tokens,
            "pad_token_id": tok.pad_token_id,
            "stopping_criteria": StoppingCriteriaList([clock]),
        }
        if first.temperature > 0:
            set_seed(first.seed)
            kwargs.update(do_sample=True, temperature=first.temperature, top_p=first.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if stop:
            kwargs.update(stop_strings=stop, tokenizer=tok)
        if first.response_format:
            kwargs["logits_processor"] = self._grammar(first.response_format)
        with self._lock, torch.inference_mode():
            torch.set_num_threads(cpu.free_cores())
            started = time.perf_counter()
            out = model.generate(**enc, **kwargs)
            latency = time.perf_counter() - started
        ttft = (clock.first - started) if clock.first else None
        new = out[:, enc["input_ids"].shape[1] :]
        eos_ids = set(_as_list(model.generation_config.eos_token_id)) | {tok.eos_token_id}
        responses = []
        for row, mask in zip(new.tolist(), enc["attention_mask"], strict=True):
            n = next((i for i, t in enumerate(row) if t in eos_ids), None)
            tokens = row if n is None else row[:n]
            text = tok.decode(tokens, skip_special_tokens=True)
            finish = "stop" if n is not None else "length"
            cut = min((text.find(s) for s in stop if s in text), default=-1)
            if cut >= 0:
                text, finish = text[:cut], "stop"
            prompt_tokens = int(mask.sum())
            responses.append(
                Response(
                    text=text.strip(),
                    finish_reason=finish,
                    prompt_tokens=prompt_tokens,
                    completion_tokens=len(tokens),
                    latency_s=latency,
                    ttft_s=ttft,
                    cost_usd=self.spec.cost(prompt_tokens, len(tokens)),
                )
            )
        return responses

    def _grammar(self, response_format: dict[str, Any]):
        """A logits processor that only lets the model write JSON matching `response_format`.

        Constrained decoding (xgrammar) is how a small local model answers with the structured
        output a caller such as ragas requires: the JSON cannot be malformed.
        """
        import xgrammar as xgr
        from transformers import LogitsProcessorList

        model, tok = self.load()
        if self._compiler is None:
            info = xgr.TokenizerInfo.from_huggingface(tok, vocab_size=model.config.vocab_size)
            self._compiler = xgr.GrammarCompiler(info)
        kind = response_format.get("type")
        if kind == "json_schema":
            schema = response_format["json_schema"].get("schema", {})
            compiled = self._compiler.compile_json_schema(json.dumps(schema))
        elif kind == "json_object":
            compiled = self._compiler.compile_builtin_json_grammar()
        else:
            raise ProviderError(f"unsupported response_format type {kind!r}")
        return LogitsProcessorList([xgr.contrib.hf.LogitsProcessor(compiled)])

    def label_logprobs(
        self, conversations: list[list[dict[str, str]]], labels: list[str], batch_size: int = 16
    ) -> list[dict[str, float]]:
        """Log-probability of each label as the assistant's whole reply, per conversation.

        Scoring every allowed label (instead of sampling text and parsing it) makes the answer
        one of the labels by construction.
        """
        import torch

        model, tok = self.load()
        label_ids = [tok(label, add_special_tokens=False).input_ids for label in labels]
        prompts = [
            tok(
                tok.apply_chat_template(c, add_generation_prompt=True, tokenize=False),
                add_special_tokens=False,
            ).input_ids
            for c in conversations
        ]
        if all(len(ids) == 1 for ids in label_ids):
            # Single-token labels: one forward pass per conversation scores every label at once.
            pairs = [(p, 0) for p in prompts]
            columns = [ids[0] for ids in label_ids]
        else:
            pairs = [(p + ids, len(ids)) for p in prompts for ids in label_ids]
            columns = None
        keep = max(len(ids) for ids in label_ids) + 1
        scores: list[float] = []
        with self._lock, torch.inference_mode():
            torch.set_num_threads(cpu.free_cores())
            for start in range(0, len(pairs), batch_size):
                chunk = pairs[start : start + batch_size]
                width = max(len(seq) for seq, _ in chunk)
                ids = torch.full((len(chunk), width), tok.pad_token_id, dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for row, (seq, _) in enumerate(chunk):  # left padding: every row ends together
                    ids[row, width - len(seq) :] = torch.tensor(seq)
                    mask[row, width - len(seq) :] = 1
                out = model(
                    input_ids=ids.to(model.device),
                    attention_mask=mask.to(model.device),
                    logits_to_keep=keep,
                )
                logprobs = torch.log_softmax(out.logits.float(), dim=-1)
                for row, (seq, n) in enumerate(chunk):
                    if columns is not None:
                        scores += [float(logprobs[row, -1, c]) for c in columns]
                        continue
                    # logits at position i predict token i+1; the kept window ends at the last token
                    scores.append(
                        sum(
                            float(logprobs[row, keep - 1 - n + j, seq[len(seq) - n + j]])
                            for j in range(n)
                        )
                    )
        per_label = len(labels)
        return [
            dict(zip(labels, scores[i * per_label : (i + 1) * per_label], strict=True))
            for i in range(len(conversations))
        ]


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
