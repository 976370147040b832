"""Input and output guards around any model call.

The input guard blocks prompt-injection patterns (after undoing common obfuscation) and
redacts personal data; the output guard blocks canary or secret leaks and redacts personal
data. A blocked call returns a clear refusal and is recorded as blocked.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from . import pii
from .fuzz import base64_payloads, canary_leak

REFUSAL = "I can't help with that request."
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_CONFUSABLES = str.maketrans("асеорхуі", "aceopxyi")
_UNLEET = str.maketrans("431057", "aeiost")
_INJECTION = re.compile(
    r"(ignore|disregard|forget|override)\s+(all\s+|any\s+|the\s+|your\s+)*(previous|prior|above|earlier|system)?\s*"
    r"(instructions|rules|prompt|guidelines)"
    r"|(reveal|print|repeat|show|output|tell me)\s+(me\s+)?(your\s+(system\s+prompt|instructions|rules|secret)"
    r"|the\s+(system\s+prompt|hidden\s+\w+|secret|canary))"
    r"|you are now\s+(dan|an? unrestricted|in developer mode)"
    r"|developer mode|jailbreak|do anything now",
    re.I,
)


@dataclass(frozen=True)
class GuardResult:
    text: str
    blocked: bool
    reasons: tuple[str, ...] = ()


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
    """Block injection attempts; redact personal data from what is let through."""
    for view in normalise(text):
        m = _INJECTION.search(view)
        if m:
            return GuardResult(REFUSAL, True, (f"prompt injection pattern: '{m.group(0)[:60]}'",))
    clean, found = pii.scrub(text)
    reasons = (f"redacted {', '.join(sorted({f.kind for f in found}))}",) if found else ()
    return GuardResult(clean, False, reasons)


def check_output(
    text: str, canary: str | None = None, secrets: tuple[str, ...] = ()
) -> GuardResult:
    """Block outputs that leak the canary or a secret; redact personal data from the rest."""
    if canary:
        leak = canary_leak(text, canary)
        if leak.hit:
            return GuardResult(REFUSAL, True, (f"canary leak: {leak.reason}",))
    for secret in secrets:
        if secret and (secret in text or canary_leak(text, secret).hit):
            return GuardResult(REFUSAL, True, ("secret leak",))
    clean, found = pii.scrub(text)
    reasons = (f"redacted {', '.join(sorted({f.kind for f in found}))}",) if found else ()
    return GuardResult(clean, False, reasons)
