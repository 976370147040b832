"""Label-preserving augmentation: seeded noise (typos, casing, whitespace, list order) and model paraphrases.

Each augmented row keeps its label and links to its parent row (`parent_id`).
"""

from __future__ import annotations

import random
import re
from typing import Any

from .llm import Request, generate_many


def parse_reply(resp) -> tuple[str, str | None]:
    """(the reply's first content line, None), or ("", why there is none)."""
    if not resp.ok:
        return "", f"generation failed: {resp.error}"
    text = first_line(resp.text)
    return (text, None) if text else ("", "empty output")


_PREAMBLE = re.compile(r"^(?:here(?:'s| is| are)|sure|certainly|of course|okay|ok)\b", re.I)


def first_line(text: str) -> str:
    """The first line of real content: list markers, quotes and chatty preambles removed."""
    for line in text.splitlines():
        line = re.sub(
            r"^\s*(?:(?:-|\*|\d+[.)])\s*)?(?:(?:text|example|review)\s*:\s*)?", "", line, flags=re.I
        )
        line = line.strip().strip('"').strip()
        if line and not line.endswith(":") and not _PREAMBLE.match(line):
            return line
    return ""


def _typo(word: str, rng: random.Random) -> str:
    """Swap two different adjacent letters inside the word (a visible, realistic typo)."""
    spots = [
        i for i in range(1, len(word) - 2) if word[i] != word[i + 1] and word[i : i + 2].isalpha()
    ]
    if not spots:
        return word
    i = rng.choice(spots)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def noise(text: str, kind: str, rng: random.Random) -> str:
    """Label-preserving noise: 'typos', 'casing', 'whitespace' or 'list_order'."""
    words = text.split(" ")
    if kind == "typos":
        idx = rng.sample(range(len(words)), max(1, len(words) // 8))
        return " ".join(_typo(w, rng) if i in idx else w for i, w in enumerate(words))
    if kind == "casing":
        return rng.choice([text.lower(), text.upper(), text.title()])
    if kind == "whitespace":
        return "  ".join(words) if rng.random() < 0.5 else " " + text.replace(", ", " ,  ") + "  "
    if kind == "list_order":
        match = re.search(r"((?:[\w-]+, )+[\w-]+,? (?:and|or) [\w-]+)", text)
        if not match:
            return text
        items = re.split(r",? (?:and|or) |, ", match.group(1))
        rng.shuffle(items)
        joiner = " and " if " and " in match.group(1) else " or "
        return text.replace(match.group(1), ", ".join(items[:-1]) + joiner + items[-1])
    raise ValueError(f"unknown noise kind {kind!r}; use typos, casing, whitespace or list_order")


NOISE_KINDS = ("typos", "casing", "whitespace", "list_order")


def augment_noise(
    rows: list[dict[str, Any]], seed: int = 0, kinds: tuple[str, ...] = NOISE_KINDS
) -> list[dict[str, Any]]:
    """One noisy copy per row, kind chosen by a seeded generator; linked to the parent row."""
    out = []
    for row in rows:
        rng = random.Random(f"{seed}:{row['id']}")
        kind = rng.choice(kinds)
        if row.get("question"):  # a generated QA row: vary the question, never the source context
            question = noise(str(row["question"]), kind, rng)
            text = str(row["input"]).replace(str(row["question"]), question)
            extra = {"question": question}
        else:
            text, extra = noise(str(row["input"]), kind, rng), {}
        if text != row["input"]:
            out.append(
                {**row, **extra, "input": text, "strategy": f"noise:{kind}", "parent_id": row["id"]}
            )
    return out


# Character-level similarity (0-1) at or above which a "paraphrase" only copies its parent.
NEAR_COPY = 0.9


def copy_similarity(text: str, parent: str) -> float:
    """How close `text` is to a copy of `parent`: case, punctuation and spacing ignored."""
    from rapidfuzz import fuzz

    def norm(s: str) -> str:
        return " ".join(re.sub(r"[^\w\s]", " ", s.lower()).split())

    return fuzz.ratio(norm(text), norm(parent)) / 100


PARAPHRASE_PROMPT = "Rewrite the text with different words, keeping its meaning and tone. Reply with the rewritten text only.\n\nText: {text}"


def augment_paraphrase(model: str, rows: list[dict[str, Any]], seed: int = 0, concurrency: int = 4):
    """A model paraphrase per row (label kept), linked to the parent row."""
    requests = [
        Request.from_prompt(PARAPHRASE_PROMPT.format(text=r["input"]), max_tokens=64, seed=seed)
        for r in rows
    ]
    out, rejected = [], []
    for row, resp in zip(
        rows, generate_many(model, requests, concurrency=concurrency), strict=True
    ):
        text, why = parse_reply(resp)
        if not why:
            similarity = copy_similarity(text, str(row["input"]))
            if similarity >= NEAR_COPY:
                why = f"not a paraphrase: a near copy of its parent (similarity {similarity:.2f})"
        new = {
            **row,
            "input": text,
            "strategy": "paraphrase",
            "parent_id": row["id"],
            "raw_output": resp.text,
            "cost_usd": resp.cost_usd,
        }
        if why:
            rejected.append({**new, "reject_reason": why})
        else:
            out.append(new)
    return out, rejected
