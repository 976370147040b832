"""Safety: personal-data patterns, leak and refusal detectors, and the guards around a model call.

- `pii`: find and scrub emails, phone numbers, card numbers and national ids;
- `detectors`: canary and secret leaks (plain and encoded), markers, refusals, judge verdicts,
  and the registered success criteria of attack rows;
- `guard`: input and output guards, and `guarded_generate`, any model call behind both.

Used by the fuzzing campaigns and by any application that wants a guarded call.
"""

from . import detectors, guard, pii
from .guard import GuardResult, check_input, check_output, guarded_generate

__all__ = [
    "GuardResult",
    "check_input",
    "check_output",
    "detectors",
    "guard",
    "guarded_generate",
    "pii",
]
