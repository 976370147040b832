"""Answer metrics with ragas, run offline.

Non-LLM metrics (context precision / recall against reference contexts, string similarity,
BLEU, ROUGE) always run. LLM metrics (faithfulness, answer relevancy) run with a judge from
the catalog through `generate_many`; every sample a metric could not score is reported with
its reason, never left as a silent NaN.
"""

from __future__ import annotations

import json
import math
import os
import typing as t

import pandas as pd

from .. import aio
from ..embeddings import embed
from ..judge import check_discrimination
from ..llm import Request, agenerate_many, generate_many
from ..models import get_model, source_file

# ragas reads this at import: telemetry off (it must be the string "true", not "1").
os.environ["RAGAS_DO_NOT_TRACK"] = "true"

NON_LLM = (
    "non_llm_context_precision_with_reference",
    "non_llm_context_recall",
    "non_llm_string_similarity",
    "bleu_score",
    "rouge_score",
)
LLM = ("faithfulness", "answer_relevancy")


_SCHEMA_INTRO = "complies with the following schema as specified in JSON Schema:"


def output_schema(prompt: str) -> dict[str, t.Any] | None:
    """The JSON schema a ragas prompt asks its answer to follow (ragas writes it into the prompt).

    Passed on as `response_format`: local models decode under it (constrained decoding), HTTP
    servers that support structured output enforce it.
    """
    at = prompt.find(_SCHEMA_INTRO)
    if at < 0:
        return None
    rest = prompt[at + len(_SCHEMA_INTRO) :].lstrip()
    try:
        schema, _ = json.JSONDecoder().raw_decode(rest)
    except json.JSONDecodeError:
        return None
    return schema if isinstance(schema, dict) else None


def _llm_wrapper(judge_model: str, max_tokens: int):
    from langchain_core.outputs import Generation, LLMResult
    from ragas.llms.base import BaseRagasLLM

    class WorkbenchRagasLLM(BaseRagasLLM):
        """ragas' LLM interface over a catalog model (cache, retries, usage tracking included)."""

        def _request(self, prompt, temperature, stop) -> Request:
            text = prompt.to_string()
            schema = output_schema(text)
            fmt = (
                {"type": "json_schema", "json_schema": {"name": "ragas", "schema": schema}}
                if schema
                else None
            )
            return Request.from_prompt(
                text,
                max_tokens=max_tokens,
                temperature=temperature or 0.0,
                stop=list(stop or []),
                response_format=fmt,
            )

        def _result(self, responses, structured: bool) -> LLMResult:
            failed = [r.error for r in responses if not r.ok]
            if failed:
                raise RuntimeError(failed[0])
            if structured and any(r.finish_reason == "length" for r in responses):
                raise RuntimeError(
                    f"judge's JSON cut off at max_tokens={max_tokens}; raise max_tokens"
                )
            return LLMResult(generations=[[Generation(text=r.text) for r in responses]])

        def generate_text(self, prompt, n=1, temperature=0.01, stop=None, callbacks=None):
            req = self._request(prompt, temperature, stop)
            return self._result(
                generate_many(judge_model, [req], progress=False), bool(req.response_format)
            )

        async def agenerate_text(self, prompt, n=1, temperature=0.01, stop=None, callbacks=None):
            req = self._request(prompt, temperature, stop)
            responses = await agenerate_many(judge_model, [req], progress=False)
            return self._result(responses, bool(req.response_format))

        def is_finished(self, response) -> bool:
            return True

    from ragas.run_config import RunConfig

    class _Never(Exception):
        """Raised by nothing: ragas retries no error of ours."""

    # generate_many has already retried what can change on retry (timeouts, 429, 5xx); a judge
    # reply that failed to parse or was cut off comes back the same from the cache, so ragas'
    # own retries (up to 10, with back-off of up to a minute) would only wait.
    return WorkbenchRagasLLM(run_config=RunConfig(max_retries=1, exception_types=_Never))


def _embeddings_wrapper(model: str):
    from ragas.embeddings.base import BaseRagasEmbeddings

    class WorkbenchRagasEmbeddings(BaseRagasEmbeddings):
        def embed_query(self, text: str) -> list[float]:
            return embed([text], model)[0].tolist()

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embed(texts, model).tolist()

        async def aembed_query(self, text: str) -> list[float]:
            return self.embed_query(text)

        async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
            return self.embed_documents(texts)

    return WorkbenchRagasEmbeddings()


def tokenizer():
    """ragas' Hugging Face tokenizer option on the embedded MiniLM tokenizer (its default,
    tiktoken, downloads its vocabulary files)."""
    from ragas.tokenizers import get_tokenizer

    return get_tokenizer("huggingface", model_name=str(source_file(get_model("all-minilm-l6-v2"))))


def score(
    samples: list[dict[str, t.Any]],
    *,
    judge_model: str | None = None,
    embedding_model: str = "all-minilm-l6-v2",
    llm_metrics: bool = True,
    max_tokens: int = 256,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score samples (user_input, response, reference, retrieved_contexts, reference_contexts).

    Returns (scores: one row per sample and metric with value, failures: one row per sample a
    metric could not score, with the reason).
    """
    from ragas.dataset_schema import SingleTurnSample
    from ragas.metrics import (
        AnswerRelevancy,
        BleuScore,
        Faithfulness,
        NonLLMContextPrecisionWithReference,
        NonLLMContextRecall,
        NonLLMStringSimilarity,
        RougeScore,
    )

    metrics = [
        NonLLMContextPrecisionWithReference(),
        NonLLMContextRecall(),
        NonLLMStringSimilarity(),
        BleuScore(),
        RougeScore(),
    ]
    if llm_metrics and judge_model:
        llm = _llm_wrapper(judge_model, max_tokens)
        metrics += [
            Faithfulness(llm=llm),
            AnswerRelevancy(llm=llm, embeddings=_embeddings_wrapper(embedding_model), strictness=1),
        ]
    rows, failures = [], []
    for i, sample in enumerate(samples):
        s = SingleTurnSample(
            **{
                k: sample[k]
                for k in (
                    "user_input",
                    "response",
                    "reference",
                    "retrieved_contexts",
                    "reference_contexts",
                )
                if k in sample
            }
        )
        for m in metrics:
            try:
                # Not ragas' single_turn_score: it nests the kernel's loop (see workbench.aio).
                value = aio.run_sync(m.single_turn_ascore(s))
                reason = (
                    ""
                    if value is not None and not (isinstance(value, float) and math.isnan(value))
                    else (
                        "ragas returned NaN: the judge's output could not be turned into verdicts"
                    )
                )
            except Exception as exc:  # one sample's failure must not lose the others
                value, reason = None, f"{type(exc).__name__}: {str(exc)[:200]}"
            rows.append({"sample": i, "metric": m.name, "value": None if reason else float(value)})
            if reason:
                failures.append({"sample": i, "metric": m.name, "reason": reason})
    table = pd.DataFrame(rows, columns=["sample", "metric", "value"])
    if llm_metrics and judge_model:
        # The judge behind the LLM metrics: one that scores every answer alike is flagged
        # (the check needs a handful of judged samples to say anything).
        for name in LLM:
            values = table.loc[table["metric"] == name, "value"].round(2)
            check_discrimination(f"ragas {name}:{judge_model}", values)
    return table, pd.DataFrame(failures, columns=["sample", "metric", "reason"])


def summary_table(scores: pd.DataFrame, by: str = "config") -> pd.DataFrame:
    """Metric x `by` cells reading 'mean (scored / attempted)'; a metric nothing scored says so."""

    def cell(values: pd.Series) -> str:
        scored = values.dropna()
        mean = f"{scored.mean():.3f}" if len(scored) else "none scored"
        return f"{mean} ({len(scored)} / {len(values)})"

    return scores.groupby(["metric", by])["value"].apply(cell).unstack(by).fillna("not attempted")
