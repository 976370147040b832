"""Write `agent_tasks.jsonl`, the evaluation set of the agents of notebook 08.

Every task is written out here by hand; the expected figures of leave questions are computed from
`datasets/hr/leave_balances.csv` (days left = entitlement + carried over - taken) so the two
files cannot disagree. Run: `.venv/bin/python datasets/chains/make_agent_tasks.py`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

HERE = Path(__file__).parent
TABLE = {
    r["employee_id"]: r for r in csv.DictReader((HERE.parent / "hr" / "leave_balances.csv").open())
}


def left(e: str) -> int:
    r = TABLE[e]
    return (
        int(r["annual_leave_entitlement"]) + int(r["carried_over"]) - int(r["annual_leave_taken"])
    )


def call(name: str, arguments: dict | None = None) -> dict:
    return {"name": name, "arguments": arguments}


def lb(e: str) -> dict:
    return call("leave_balance", {"employee": e})


def task(
    category: str,
    text: str,
    reference,
    calls: list[dict],
    *,
    order: str = "strict",
    forbidden: list[str] | None = None,
    max_steps: int = 4,
    gold_doc: str | None = None,
) -> dict:
    return {
        "input": text,
        "reference": str(reference),
        "category": category,
        "expected_calls": calls,
        "order": order,
        "forbidden": forbidden or [],
        "max_steps": max_steps,
        "gold_doc": gold_doc,
    }


TASKS = [
    # single-step lookups: one tool, exact arguments
    *[
        task(
            "lookup",
            f"How many days of annual leave does employee {e} have left this year?",
            left(e),
            [lb(e)],
            max_steps=3,
        )
        for e in ("E1001", "E1002", "E1003", "E1004", "E1005", "E1008")
    ],
    task(
        "lookup",
        "How many sick days has Hugo Martin taken?",
        TABLE["E1008"]["sick_days_taken"],
        [lb("Hugo Martin")],
        max_steps=3,
    ),
    task(
        "lookup",
        "When did Greta Nilsson start at the company?",
        TABLE["E1007"]["start_date"],
        [lb("Greta Nilsson")],
        max_steps=3,
    ),
    task(
        "lookup",
        "How many days did employee E1010 carry over from last year?",
        TABLE["E1010"]["carried_over"],
        [lb("E1010")],
        max_steps=3,
    ),
    task(
        "lookup",
        "How many calendar days are there from 2026-03-01 to 2026-04-15?",
        45,
        [call("days_between", {"start": "2026-03-01", "end": "2026-04-15"})],
        max_steps=3,
    ),
    task(
        "lookup",
        "What date is 14 days after 2026-12-20?",
        "2027-01-03",
        [call("add_days", {"date": "2026-12-20", "days": 14})],
        max_steps=3,
    ),
    task(
        "lookup",
        "What date is 30 days after 2026-02-10?",
        "2026-03-12",
        [call("add_days", {"date": "2026-02-10", "days": 30})],
        max_steps=3,
    ),
    task(
        "lookup",
        "How many days are there between 2026-01-01 and 2026-12-31?",
        364,
        [call("days_between", {"start": "2026-01-01", "end": "2026-12-31"})],
        max_steps=3,
    ),
    task(
        "lookup",
        "What is 1250 * 12?",
        15000,
        [call("calculator", {"expression": "1250 * 12"})],
        max_steps=3,
    ),
    task(
        "lookup",
        "What is 27 + 5 - 12?",
        20,
        [call("calculator", {"expression": "27 + 5 - 12"})],
        max_steps=3,
    ),
    task(
        "lookup",
        "How many days of leave can I carry over into the next year?",
        5,
        [call("kb_search")],
        gold_doc="annual-leave",
    ),
    task(
        "lookup",
        "By what date must carried-over leave days be taken?",
        "31 March",
        [call("kb_search")],
        gold_doc="annual-leave",
    ),
    task(
        "lookup",
        "How many days of paid annual leave do full-time employees get?",
        27,
        [call("kb_search")],
        gold_doc="annual-leave",
    ),
    task(
        "lookup",
        "Is the learning budget carried over to the next year?",
        "not carried over",
        [call("kb_search")],
        gold_doc="learning-budget",
    ),
    # multi-step: two tools, or a tool and retrieval
    task(
        "multi",
        "Employee E1002 takes 3 more days of leave. How many days will E1002 have left?",
        left("E1002") - 3,
        [lb("E1002"), call("calculator", {"expression": f"{left('E1002')} - 3"})],
    ),
    task(
        "multi",
        "If Amara Okafor books 5 more days, how many days of leave will she have left?",
        left("E1001") - 5,
        [lb("Amara Okafor"), call("calculator", {"expression": f"{left('E1001')} - 5"})],
    ),
    task(
        "multi",
        "How many days of leave do E1003 and E1009 have left together?",
        left("E1003") + left("E1009"),
        [
            lb("E1003"),
            lb("E1009"),
            call("calculator", {"expression": f"{left('E1003')} + {left('E1009')}"}),
        ],
        order="any",
        max_steps=5,
    ),
    task(
        "multi",
        "Who has more annual leave left, E1005 or E1006?",
        "E1005" if left("E1005") > left("E1006") else "E1006",
        [lb("E1005"), lb("E1006")],
        order="any",
    ),
    task(
        "multi",
        "How many full weeks are there from 2026-01-05 to 2026-03-02?",
        8,
        [
            call("days_between", {"start": "2026-01-05", "end": "2026-03-02"}),
            call("calculator", {"expression": "56 / 7"}),
        ],
    ),
    task(
        "multi",
        "Jonas Weber (E1010) starts leave on 2026-12-01 and takes all his remaining days in a row. On what date does his leave end (the last day of leave)?",
        "2026-12-18",
        [lb("E1010"), call("add_days", {"date": "2026-12-01", "days": left("E1010") - 1})],
        max_steps=5,
    ),
    task(
        "multi",
        "Can employee E1004 sell leave days this year? Check the policy and her record.",
        "yes",
        [call("kb_search"), lb("E1004")],
        order="any",
        gold_doc="annual-leave",
        max_steps=5,
    ),
    task(
        "multi",
        "Can employee E1009 sell leave days this year? Check the policy and her record.",
        "no",
        [call("kb_search"), lb("E1009")],
        order="any",
        gold_doc="annual-leave",
        max_steps=5,
    ),
    task(
        "multi",
        "The learning budget is per employee and year. How much is it over three years, in EUR?",
        3600,
        [call("kb_search"), call("calculator", {"expression": "1200 * 3"})],
        gold_doc="learning-budget",
        max_steps=5,
    ),
    task(
        "lookup",
        "How many days of leave does Chen Wei have left, counting the days he carried over?",
        left("E1003"),
        [lb("Chen Wei")],
        max_steps=3,
    ),
    # no tool needed
    task("no_tool", "Hello! Who are you?", "HR assistant", [], max_steps=2),
    task("no_tool", "Please say thank you in German.", "Danke", [], max_steps=2),
    task(
        "no_tool", "Rewrite this more politely: 'send me the form now'.", "please", [], max_steps=2
    ),
    task("no_tool", "Reply with the single word OK.", "OK", [], max_steps=2),
    task("no_tool", "What is the opposite of 'approve'?", "reject", [], max_steps=2),
    task("no_tool", "Thanks, that is all I needed.", "welcome", [], max_steps=2),
    # a forbidden tool: the task names what must not be used
    task(
        "forbidden",
        "Without using the calculator, what is 2 + 2?",
        4,
        [],
        forbidden=["calculator"],
        max_steps=2,
    ),
    task(
        "forbidden",
        "Using only the HR table (not the knowledge base), how many days does E1007 have left?",
        left("E1007"),
        [lb("E1007")],
        forbidden=["kb_search"],
        max_steps=3,
    ),
    task(
        "forbidden",
        "Do not look anything up: how many months are in a year?",
        12,
        [],
        forbidden=["kb_search", "leave_balance"],
        max_steps=2,
    ),
    task(
        "forbidden",
        "Without the date tools, what day comes after Monday?",
        "Tuesday",
        [],
        forbidden=["days_between", "add_days"],
        max_steps=2,
    ),
    task(
        "forbidden",
        "From the knowledge base only (no HR table): how many extra days after 10 years of service?",
        3,
        [call("kb_search")],
        forbidden=["leave_balance"],
        gold_doc="annual-leave",
        max_steps=3,
    ),
    task(
        "forbidden",
        "Without the calculator: employee E1006, how many sick days so far?",
        TABLE["E1006"]["sick_days_taken"],
        [lb("E1006")],
        forbidden=["calculator"],
        max_steps=3,
    ),
]


def main() -> None:
    rows = [{"id": f"agent-{n:03d}", **t} for n, t in enumerate(TASKS, 1)]
    (HERE / "agent_tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"{len(rows)} tasks")


if __name__ == "__main__":
    main()
