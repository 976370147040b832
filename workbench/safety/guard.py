"""Input and output guards around any model call.

The input guard blocks prompt-injection patterns and requests for clearly harmful help (after
undoing common obfuscation) and redacts personal data; the output guard blocks canary or
secret leaks and redacts personal data. `guarded_generate` wraps any model call with both: a
blocked call returns a clear refusal, never reaches (or leaves) the model, and is counted as
blocked in the run record.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, replace

from .. import trace, tracking
from ..llm import Request, Response, generate_many
from . import pii
from .detectors import base64_payloads, canary_leak, secret_leak

REFUSAL = "I can't help with that request."
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_CONFUSABLES = str.maketrans("асеорхуі", "aceopxyi")
_UNLEET = str.maketrans("431057", "aeiost")
# Common prompt-injection and jailbreak phrasings (after de-obfuscation): orders to drop the
# instructions, requests for the hidden prompt, fake role or system tags, persona switches.
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\s+(all\s+|any\s+|the\s+|your\s+|of\s+)*"
    r"(previous\s+|prior\s+|above\s+|earlier\s+|system\s+|initial\s+|original\s+)?"
    r"(instructions|rules|prompt|guidelines|directions|orders|policy|policies)"
    r"|\b(new|updated|priority|real)\s+(instructions|orders|prompt|task)\b"
    r"|\binstructions\s+(were|are)\s+(a\s+test|void|cancelled|canceled|replaced)"
    r"|\b(reveal|print|repeat|show|output|tell\s+me|give\s+me|spell|encode|translate|write|summari[sz]e|list)"
    r"\s+(me\s+)?(out\s+)?(all\s+)?(your\s+(\w+\s+)?(system\s+prompt|instructions|rules|prompt|configuration"
    r"|reference\s+code|canary|secret)|the\s+(system\s+prompt|hidden\s+\w+|reference\s+code|canary|secret))"
    r"|\bwhat\s+(is|was|were)\s+your\s+(system\s+prompt|initial\s+instructions|instructions)"
    r"|\brepeat\s+(everything|all|the\s+text)\s+(above|before)"
    r"|</?\s*(system|assistant|user|assistant_override)\s*>|\[/?system\]|#+\s*end\s+of\s+prompt"
    r"|\b(dear|attention|(instructions?|note|message)\s+(to|for)(\s+the)?)\s+(ai|assistant|language\s+model|llm|any\s+ai)\b"
    r"|\bto\s+any\s+ai\b|\bai\s+(models?|agents?)(\s+reading|\s*:)|\bignore\s+the\s+(user|question)\b"
    r"|\byou\s+are\s+(now|no\s+longer)\b|\b(pretend|act)\s+(you\s+are|as)\b|\bstay\s+in\s+character"
    r"|developer\s+mode|jailbr(o|ea)k|do\s+anything\s+now|no\s+(rules|restrictions|guidelines)\b"
    r"|filters?\s+(are\s+)?off|without\s+(any\s+)?restrictions|opposite\s+day",
    re.I,
)

# Requests for clearly harmful help (weapons, malware, intrusion, drugs, poison, self-harm,
# stalking, harassment, fraud). Deliberately narrow: a guard that refuses "how do I kill a
# frozen process" costs more trust than it buys.
_HARMFUL = re.compile(
    r"\b(pipe\s*bomb|bomb|explosives?|untraceable\s+(gun|weapon)|ghost\s+gun)\b"
    r"|\b(keylogger|ransomware|malware|spyware|computer\s+virus)\b"
    r"|\b(hack|break)\s+into\b|\bsteal\w*\s+(\w+\s+){0,3}(credit\s+card|card\s+numbers?|passwords?|credentials)"
    r"|\b(write|create|draft|send|generate)\s+(\w+\s+){0,3}phishing\b"
    r"|\b(synthesi[sz]e|cook|make)\s+(\w+\s+){0,2}(meth\w*|cocaine|heroin|fentanyl)\b"
    r"|\bpoison\s+(someone|somebody|a\s+person|my|him|her|them)\b|\btoxic\s+gas\b"
    r"|\b(hurt|harm|kill)\s+(myself|yourself)\b|\bsuicide\s+method"
    r"|\bstalk\w*\b|\bslurs\s+(to|for)\b|\blist\s+of\s+(\w+\s+)?slurs"
    r"|\bharass\w*\s+(my|a|her|him|them|someone|colleague)"
    r"|\b(forge[dr]?|fake)\s+(a\s+)?(doctor'?s\s+note|sick\s+note|signature|receipt)",
    re.I,
)


@dataclass(frozen=True)
class GuardResult:
    text: str
    blocked: bool
    reasons: tuple[str, ...] = ()


def _redacted(text: str) -> GuardResult:
    """`text` let through, with personal data replaced by placeholders."""
    clean, found = pii.scrub(text)
    reasons = (f"redacted {', '.join(sorted({f.kind for f in found}))}",) if found else ()
    return GuardResult(clean, False, reasons)


def normalise(text: str) -> list[str]:
    """The text and its likely decodings (zero-width removed, look-alikes mapped, leet, base64, rot13)."""
    clean = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).translate(_CONFUSABLES)
    return [
        clean,
        clean.lower().translate(_UNLEET),
        codecs.decode(clean, "rot13"),
        *base64_payloads(clean, 16),
    ]


def check_input(text: str) -> GuardResult:
    """Block injection attempts and harmful requests; redact personal data from the rest."""
    for view in normalise(text):
        for pattern, what in ((_INJECTION, "prompt injection"), (_HARMFUL, "harmful request")):
            m = pattern.search(view)
            if m:
                return GuardResult(REFUSAL, True, (f"{what} pattern: '{m.group(0)[:60]}'",))
    return _redacted(text)


def check_output(
    text: str, canary: str | None = None, secrets: tuple[str, ...] = ()
) -> GuardResult:
    """Block outputs that leak the canary or a secret; redact personal data from the rest."""
    if canary:
        leak = canary_leak(text, canary)
        if leak.hit:
            return GuardResult(REFUSAL, True, (f"canary leak: {leak.reason}",))
    leak = secret_leak(text, [s for s in secrets if s])
    if leak.hit:
        return GuardResult(REFUSAL, True, (f"secret leak: {leak.reason}",))
    return _redacted(text)


def guarded_generate(
    model: str,
    requests: list[Request],
    *,
    input_guard: bool = True,
    output_guard: bool = True,
    canary: str | None = None,
    secrets: tuple[str, ...] = (),
    **kwargs,
) -> list[Response]:
    """`generate_many` with guards around it; one Response per request, in order.

    The input guard reads every user turn (retrieved documents included); the system prompt
    is the application's own and is not checked. Each response's `metadata["guard"]` holds
    `blocked` ("input", "output" or "") and `reasons`; `raw_text` holds what the model said
    before the output guard. Blocked and redacted counts go to the run record under `guards`.
    """
    verdicts: list[tuple[str, tuple[str, ...]]] = [("", ())] * len(requests)
    to_model: list[tuple[int, Request]] = []
    for i, req in enumerate(requests):
        messages, reasons, blocked = [], [], False
        for m in req.messages:
            if input_guard and m["role"] == "user" and not blocked:
                checked = check_input(m["content"])
                reasons += checked.reasons
                blocked = checked.blocked
                m = {**m, "content": checked.text}
            messages.append(m)
        verdicts[i] = ("input" if blocked else "", tuple(reasons))
        if not blocked:
            to_model.append((i, replace(req, messages=messages)))
    responses: list[Response] = [
        Response(
            text=REFUSAL, finish_reason="blocked", model=str(model), metadata=dict(req.metadata)
        )
        for req in requests
    ]
    answered = generate_many(model, [r for _, r in to_model], **kwargs) if to_model else []
    for (i, _), resp in zip(to_model, answered, strict=True):
        blocked, reasons = verdicts[i]
        raw = resp.text
        if output_guard and resp.ok:
            checked = check_output(resp.text, canary=canary, secrets=secrets)
            resp = replace(resp, text=checked.text)
            reasons += checked.reasons
            blocked = "output" if checked.blocked else ""
        responses[i] = replace(resp, metadata={**resp.metadata, "raw_text": raw})
        verdicts[i] = (blocked, reasons)
    for i, (blocked, reasons) in enumerate(verdicts):
        responses[i].metadata["guard"] = {"blocked": blocked, "reasons": list(reasons)}
        trace.record(
            "guard",
            0.0,
            kind="internal",
            parent=requests[i].traceparent,
            workbench__guard__input=input_guard,
            workbench__guard__output=output_guard,
            workbench__guard__blocked=blocked or "none",
            workbench__guard__reasons=list(reasons),
        )
    tracking.current().record_guards(
        checked=len(requests),
        blocked_input=sum(b == "input" for b, _ in verdicts),
        blocked_output=sum(b == "output" for b, _ in verdicts),
        redacted=sum(any(r.startswith("redacted") for r in rs) for _, rs in verdicts),
    )
    return responses
