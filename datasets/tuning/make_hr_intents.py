"""Writes the HR-intent routing set: `tasks/hr_intents.jsonl` (held-out evaluation rows) and
`tuning/hr_intents_train.jsonl` (training rows), seeded, so running it again gives the same bytes.

Each intent has its own phrasings and subjects. Training rows and evaluation rows share neither:
the evaluation templates and the last two subjects of each intent are held out, so a tuned model
must generalise, and no evaluation row is a near copy of a training row. Run from the project root: `python datasets/tuning/make_hr_intents.py`.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 11
TRAIN_PER_INTENT, EVAL_PER_INTENT = 26, 8

# intent -> (slot values, training phrasings, held-out evaluation phrasings)
INTENTS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "payroll": (
        [
            "my March payslip",
            "the overtime I worked last month",
            "my tax code",
            "my salary payment",
            "the bonus in my last pay",
            "my new bank account details",
            "the pension deduction on my pay",
            "my shift allowance",
        ],
        [
            "There is a mistake in {x}, who can fix it?",
            "Why is {x} lower than expected?",
            "I need to update {x} before the next pay run.",
            "Can someone check {x} for me?",
            "When will {x} be corrected?",
            "Where do I see {x} online?",
            "I was not paid correctly: {x} looks wrong.",
            "Please explain {x}.",
            "Has {x} been processed yet?",
            "How do I download {x}?",
        ],
        [
            "My pay this month is short. It looks like {x} is missing.",
            "Quick question about money: what happened with {x}?",
            "Finance told me to ask you about {x}.",
            "I think {x} was calculated incorrectly.",
        ],
    ),
    "leave": (
        [
            "two weeks of holiday in August",
            "a sick day tomorrow",
            "parental leave from June",
            "my remaining vacation days",
            "unpaid leave for a month",
            "compassionate leave",
            "carrying over five days of annual leave",
            "a half day off on Friday",
        ],
        [
            "How do I request {x}?",
            "Can I book {x}?",
            "Who approves {x}?",
            "I would like to take {x}.",
            "Is there a form for {x}?",
            "How many days do I have for {x}?",
            "My manager said to ask you about {x}.",
            "What is the policy on {x}?",
            "Can {x} be cancelled once approved?",
            "Please register {x} for me.",
        ],
        [
            "I need some time away: {x}. What are the steps?",
            "Is it still possible to arrange {x} this late?",
            "Checking whether {x} would be allowed.",
            "Could you tell me how {x} works here?",
        ],
    ),
    "benefits": (
        [
            "the dental plan",
            "my health insurance cover",
            "the gym membership discount",
            "adding my partner to the medical plan",
            "the employee pension match",
            "the eye test voucher",
            "life insurance",
            "the cycle-to-work scheme",
        ],
        [
            "How do I enrol in {x}?",
            "What does {x} include?",
            "Am I eligible for {x}?",
            "Can I change {x} mid-year?",
            "Who is the provider for {x}?",
            "When does {x} start?",
            "Is {x} free for employees?",
            "I want to cancel {x}.",
            "Where can I read about {x}?",
            "Does {x} cover my family?",
        ],
        [
            "I am comparing perks: tell me about {x}.",
            "A colleague mentioned {x}; how do I join?",
            "Looking for details on {x}, please.",
            "Could {x} be extended to part-time staff?",
        ],
    ),
    "expenses": (
        [
            "my train tickets to the client site",
            "a hotel receipt from the conference",
            "mileage for driving to the warehouse",
            "a team lunch with customers",
            "my taxi fare from the airport",
            "the per diem for my trip to Lyon",
            "a lost receipt for a flight",
            "the software I bought for the project",
        ],
        [
            "How do I claim {x}?",
            "Can I be reimbursed for {x}?",
            "Where do I submit {x}?",
            "What is the limit for {x}?",
            "My claim for {x} was rejected, why?",
            "When will I be paid back for {x}?",
            "Do I need approval before claiming {x}?",
            "Which cost centre should {x} go to?",
            "Is {x} refundable?",
            "I forgot to claim {x}.",
        ],
        [
            "I paid for {x} myself and want the money back.",
            "Still waiting on reimbursement of {x}.",
            "Not sure how to file {x} in the tool.",
            "Does the travel policy allow me to claim {x}?",
        ],
    ),
    "it_access": (
        [
            "my laptop password",
            "the VPN",
            "my email account",
            "access to the shared drive",
            "two-factor authentication on my phone",
            "the HR system login",
            "a new monitor",
            "my locked user account",
        ],
        [
            "I cannot log in to {x}.",
            "Please reset {x}.",
            "How do I get access to {x}?",
            "{x} stopped working this morning.",
            "Who do I contact about {x}?",
            "Can you unlock {x}?",
            "I need {x} set up on my new device.",
            "Is {x} down for everyone?",
            "My request for {x} is still pending.",
            "How long does it take to fix {x}?",
        ],
        [
            "Tech trouble: {x} gives me an error.",
            "Since the update, {x} refuses to let me in.",
            "Requesting help with {x} as soon as possible.",
            "I have no way to reach {x} from home.",
        ],
    ),
    "recruiting": (
        [
            "a friend for the data analyst opening",
            "the interview schedule for Tuesday",
            "an internal transfer to the Berlin office",
            "the job advert for a warehouse lead",
            "the referral bonus",
            "the candidate I interviewed yesterday",
            "a new headcount for my team",
            "the offer letter for our new hire",
        ],
        [
            "How do I refer {x}?",
            "Who is handling {x}?",
            "Can you update me on {x}?",
            "I want to apply for {x}.",
            "What is the process for {x}?",
            "Is {x} approved yet?",
            "Please send me {x}.",
            "When will {x} be published?",
            "Can I give feedback on {x}?",
            "Who signs off {x}?",
        ],
        [
            "Hiring question: what is happening with {x}?",
            "I'd like to put forward {x}.",
            "Need a status on {x} before Friday.",
            "Could recruitment look into {x}?",
        ],
    ),
    "training": (
        [
            "the mandatory data protection course",
            "a project management certification",
            "my learning budget for this year",
            "the leadership programme",
            "a conference ticket as training",
            "the fire safety e-learning",
            "an Excel workshop",
            "language lessons in German",
        ],
        [
            "How do I sign up for {x}?",
            "Is {x} paid by the company?",
            "When is the deadline for {x}?",
            "Can I use work hours for {x}?",
            "Where do I find {x}?",
            "Who approves {x}?",
            "I finished {x}; how do I record it?",
            "What does {x} cover?",
            "Is {x} required for my role?",
            "Can my team attend {x} together?",
        ],
        [
            "I'd like to grow my skills through {x}.",
            "My manager wants me to complete {x}.",
            "Any spaces left for {x}?",
            "Would {x} count towards my development plan?",
        ],
    ),
    "facilities": (
        [
            "a desk on the third floor",
            "a parking space",
            "my building access badge",
            "a broken chair at my desk",
            "the meeting room for Thursday",
            "the air conditioning",
            "a locker in the changing room",
            "the kitchen coffee machine",
        ],
        [
            "How do I book {x}?",
            "{x} is not working.",
            "Can someone repair {x}?",
            "Who manages {x}?",
            "I need {x} for next week.",
            "My request for {x} was ignored.",
            "Is {x} available today?",
            "Please replace {x}.",
            "Where do I report a problem with {x}?",
            "Can I reserve {x} every Monday?",
        ],
        [
            "The office issue again: {x} needs attention.",
            "Can the building team sort out {x}?",
            "I would like to arrange {x} for a visitor.",
            "Nobody has looked at {x} yet.",
        ],
    ),
}


def rows(split: str, per_intent: int, rng: random.Random) -> list[dict[str, str]]:
    out = []
    for intent, (slots, train_tpl, eval_tpl) in INTENTS.items():
        templates = train_tpl if split == "train" else eval_tpl
        subjects = slots[:-2] if split == "train" else slots[-2:]
        pairs = [(t, s) for t in templates for s in subjects]
        for tpl, slot in rng.sample(pairs, per_intent):
            text = tpl.format(x=slot)
            out.append({"input": text[0].upper() + text[1:], "reference": intent})
    rng.shuffle(out)
    prefix = "hrt" if split == "train" else "hri"
    return [{"id": f"{prefix}-{i:03d}", **r} for i, r in enumerate(out, 1)]


def write(path: Path, data: list[dict[str, str]]) -> None:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data), encoding="utf-8"
    )


if __name__ == "__main__":
    rng = random.Random(SEED)
    write(HERE / "hr_intents_train.jsonl", rows("train", TRAIN_PER_INTENT, rng))
    write(HERE.parent / "tasks" / "hr_intents.jsonl", rows("eval", EVAL_PER_INTENT, rng))
