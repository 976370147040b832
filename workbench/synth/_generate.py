"""Generation strategies: questions from documents (single and multi hop), new examples from
labelled seeds, and label correction by a model. Model output is parsed and validated; a row
that fails is kept aside with its reason, never silently dropped."""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..augment import parse_reply
from ..data import DataError
from ..documents import load_corpus
from ..judge import check_discrimination
from ..llm import Request, generate_many, get_provider, label_logprobs
from ..metrics import normalize

STRATEGIES = ("single_hop", "multi_hop", "from_seeds", "paraphrase", "noise", "correct")


@dataclass
class Chunk:
    id: str
    doc_id: str
    text: str


# ----------------------------------------------------------------------------- sources


def load_documents(folder: str | Path) -> list[tuple[str, str]]:
    """(doc id, text) per document, read by the RAG loader (Markdown, text, HTML, PDF).

    Unreadable or empty files raise DataError naming the file and line.
    """
    return [(d.id, d.text) for d in load_corpus(folder)]


def paragraphs(docs: list[tuple[str, str]], min_chars: int = 80) -> list[Chunk]:
    """Split documents at blank lines into paragraph chunks (headings stay with their text)."""
    chunks = []
    for doc_id, text in docs:
        blocks, pending = [], ""
        for block in re.split(r"\n\s*\n", text):
            block = block.strip()
            if not block:
                continue
            if block.startswith("#") and "\n" not in block:
                pending = (pending + " " + block.lstrip("# ")).strip()
                continue
            blocks.append(f"{pending}: {block}" if pending else block)
            pending = ""
        for n, block in enumerate(b for b in blocks if len(b) >= min_chars):
            chunks.append(Chunk(f"{doc_id}#{n}", doc_id, block))
    return chunks


# ----------------------------------------------------------------------------- answer spans

_SPAN_PATTERNS = [
    r"\b\d+(?:[.,]\d+)?\s?(?:%|percent|per cent|days?|weeks?|months?|years?|hours?|EUR|USD|GBP|euros?|dollars?)\b",
    r"(?:€|\$|£)\s?\d+(?:[.,]\d+)?",
    r"\b\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|November|December)\b",
    r"\b(?:[A-Z][a-z]+ ){1,3}(?:Plan|Policy|Team|Portal|Desk|Office|Centre|Center|Fund|Programme|Program)\b",
]


def answer_spans(text: str) -> list[str]:
    """Short factual spans (amounts, durations, dates, named programmes) a question can target."""
    spans: list[str] = []
    for pattern in _SPAN_PATTERNS:
        spans += [m.group(0).strip() for m in re.finditer(pattern, text)]
    return list(dict.fromkeys(spans))


def sentence_with(text: str, span: str) -> str:
    for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
        if span in sentence:
            return sentence.strip()
    return text


# ----------------------------------------------------------------------------- generation

QUESTION_PROMPT = (
    "Text:\n{text}\n\nWrite one question about the text whose answer is exactly: {answer}\n"
    "Reply with the question only."
)
MULTI_HOP_PROMPT = (
    "Text 1:\n{a}\n\nText 2:\n{b}\n\nWrite one question that needs both texts to answer; the answer "
    "combines '{answer_a}' and '{answer_b}'. Reply with the question only."
)


def _question(text: str) -> str | None:
    """The first line that reads as a question, without a 'Question:' prefix."""
    for line in text.splitlines():
        line = (
            re.sub(r"^\s*(?:\d+[.)]|-|\*|Q(?:uestion)?\s*\d*\s*[:.])\s*", "", line)
            .strip()
            .strip('"')
        )
        if line.endswith("?") and len(line) >= 10:
            return line
    return None


def qa_from_documents(
    model: str,
    chunks: list[Chunk],
    n: int,
    *,
    seed: int = 0,
    multi_hop: int = 0,
    concurrency: int = 4,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Question/answer rows grounded in one chunk (single-hop) or two related chunks (multi-hop).

    The answer is chosen first, as a span of the source text; the model writes the question.
    Returns (rows, rejected) where rejected rows carry `reject_reason`.
    """
    rng = random.Random(seed)
    candidates = [(c, s) for c in chunks for s in answer_spans(c.text)]
    if not candidates:
        raise DataError(
            "no answerable spans (amounts, dates, durations, names) found in the documents"
        )
    picks = rng.sample(candidates, min(n, len(candidates)))
    plans = [
        {
            "strategy": "single_hop",
            "chunks": [c],
            "answer": s,
            "support": [sentence_with(c.text, s)],
        }
        for c, s in picks
    ]
    by_doc: dict[str, list[tuple[Chunk, str]]] = {}
    for c, s in candidates:
        by_doc.setdefault(c.doc_id, []).append((c, s))
    docs = sorted(by_doc)
    for _ in range(multi_hop if len(docs) > 1 else 0):
        d1, d2 = rng.sample(docs, 2)
        (c1, s1), (c2, s2) = rng.choice(by_doc[d1]), rng.choice(by_doc[d2])
        plans.append(
            {
                "strategy": "multi_hop",
                "chunks": [c1, c2],
                "answer": f"{s1}; {s2}",
                "support": [sentence_with(c1.text, s1), sentence_with(c2.text, s2)],
            }
        )
    requests = []
    for p in plans:
        if p["strategy"] == "single_hop":
            prompt = QUESTION_PROMPT.format(text=p["chunks"][0].text, answer=p["answer"])
        else:
            a, b = p["chunks"]
            s1, s2 = p["answer"].split("; ")
            prompt = MULTI_HOP_PROMPT.format(a=a.text, b=b.text, answer_a=s1, answer_b=s2)
        requests.append(Request.from_prompt(prompt, max_tokens=48, seed=seed))
    rows, rejected = [], []
    for p, resp in zip(plans, generate_many(model, requests, concurrency=concurrency), strict=True):
        row = {
            "input": "",
            "reference": p["answer"],
            "strategy": p["strategy"],
            "source_ids": [c.id for c in p["chunks"]],
            "supporting_text": " ".join(p["support"]),
            "raw_output": resp.text,
            "cost_usd": resp.cost_usd,
        }
        question = _question(resp.text) if resp.ok else None
        if question is None:
            reason = (
                f"generation failed: {resp.error}"
                if not resp.ok
                else "model output holds no question"
            )
            rejected.append({**row, "reject_reason": reason})
            continue
        context = "\n".join(c.text for c in p["chunks"])
        rows.append(
            {**row, "input": f"Context: {context}\nQuestion: {question}", "question": question}
        )
    return rows, rejected


SEED_PROMPT = "Here are examples labelled '{label}':\n{examples}\n\nWrite one new, different example labelled '{label}'. Reply with the text only."


def from_seeds(
    model: str,
    seeds: list[dict[str, Any]],
    n: int,
    *,
    seed: int = 0,
    shots: int = 3,
    concurrency: int = 4,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """New examples in the style and label distribution of `seeds` (rows with input and reference)."""
    rng = random.Random(seed)
    by_label: dict[str, list[dict[str, Any]]] = {}
    for s in seeds:
        by_label.setdefault(str(s["reference"]), []).append(s)
    labels = [str(s["reference"]) for s in seeds]
    plans = []
    for i in range(n):
        label = rng.choice(labels)  # drawn from the seeds' own label distribution
        shots_rows = rng.sample(by_label[label], min(shots, len(by_label[label])))
        examples = "\n".join(f"- {r['input']}" for r in shots_rows)
        plans.append((i, label, shots_rows, SEED_PROMPT.format(label=label, examples=examples)))
    requests = [Request.from_prompt(p, max_tokens=64, seed=seed, repeat=i) for i, _, _, p in plans]
    rows, rejected = [], []
    for (_, label, shots_rows, _), resp in zip(
        plans, generate_many(model, requests, concurrency=concurrency), strict=True
    ):
        text, why = parse_reply(resp)
        row = {
            "input": text,
            "reference": label,
            "strategy": "from_seeds",
            "source_ids": [r["id"] for r in shots_rows],
            "raw_output": resp.text,
            "cost_usd": resp.cost_usd,
        }
        if why:
            rejected.append({**row, "reject_reason": why})
        else:
            rows.append(row)
    return rows, rejected


# ----------------------------------------------------------------------------- correction


def correct_labels(
    model: str,
    rows: list[dict[str, Any]],
    labels: list[str],
    *,
    margin: float = 1.0,
    instruction: str = "",
) -> list[dict[str, Any]]:
    """Flag rows whose label the model disputes, with a reason and a proposed label.

    The original `reference` is never changed: flagged rows get `suspect_label`,
    `proposed_label` and `label_reason`. A local model scores every label's
    log-probability; an HTTP model is asked for the label and its reply is matched.
    """
    instruction = instruction or f"Classify the text. Answer with one of: {', '.join(labels)}."
    convs = [
        [{"role": "system", "content": instruction}, {"role": "user", "content": str(r["input"])}]
        for r in rows
    ]
    out = []
    if get_provider(model).supports("local_logprobs"):
        scores = label_logprobs(model, convs, labels)
    else:
        replies = generate_many(model, [Request(c, max_tokens=8) for c in convs], progress=False)
        scores = [
            {lab: (0.0 if lab in normalize(r.text).split() else -10.0) for lab in labels}
            for r in replies
        ]
    # The model acts as a judge of labels: one that prefers the same label for (nearly) every
    # row cannot tell rows apart, and its flags must carry that warning.
    check_discrimination(f"label-check:{model}", [max(s, key=s.get) for s in scores])
    for row, s in zip(rows, scores, strict=True):
        best = max(s, key=s.get)
        given = str(row["reference"])
        gap = s[best] - s.get(given, float("-inf"))
        flagged = best != given and gap >= margin
        out.append(
            {
                **row,
                "suspect_label": flagged,
                "proposed_label": best if flagged else "",
                "label_reason": f"model prefers '{best}' over '{given}' by {gap:.2f} nats"
                if flagged
                else "",
            }
        )
    return out


def label_counts(rows: list[dict[str, Any]]) -> Counter:
    return Counter(str(r.get("reference")) for r in rows)


# ----------------------------------------------------------------------------- pipeline
