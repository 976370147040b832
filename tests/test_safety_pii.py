"""workbench.safety.pii: each pattern on positive and negative examples."""

import pytest

from workbench.safety import pii


@pytest.mark.unit
@pytest.mark.parametrize(
    "text, kind",
    [
        ("write to jane.doe@example.org today", "email"),
        ("call +44 20 7946 0958 now", "phone"),
        ("call (020) 7946 0958", "phone"),
        ("card 4111 1111 1111 1111 expires", "card_number"),
        ("card 4242-4242-4242-4242", "card_number"),
        ("SSN 123-45-6789", "national_id"),
        ("NI number AB 12 34 56 C", "national_id"),
    ],
)
def test_detects(text, kind):
    assert kind in {f.kind for f in pii.find(text)}


@pytest.mark.unit
@pytest.mark.parametrize(
    "text",
    [
        "Invoice INV-20431 is due on 15 March 2026.",
        "The total is 1,250.00 EUR for 3 items.",
        "card 4111 1111 1111 1112 fails the Luhn check",
        "Flight BA 2490 departs at 07:35 from gate 14.",
        "Version 2.13.0 was released in 2026.",
        "The review is on 2026-11-24 at 10:00.",
    ],
)
def test_ignores_ordinary_numbers(text):
    assert pii.find(text) == []


@pytest.mark.unit
def test_luhn():
    assert pii.luhn_ok("4111111111111111") and not pii.luhn_ok("4111111111111112")


@pytest.mark.unit
def test_scrub_replaces_and_reports():
    clean, found = pii.scrub("Mail a.b@example.com or call +1 415 555 0100.")
    assert clean == "Mail [EMAIL] or call [PHONE]."
    assert [f.kind for f in found] == ["email", "phone"]
