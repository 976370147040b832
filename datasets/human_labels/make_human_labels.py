"""Writes the human labels that calibrate the judges of notebook 02 (see datasets/README.md).

Every answer below is what SmolLM2-135M-Instruct (the embedded model) answered, greedy, to a
case of `tasks/qa.jsonl` under the named prompt template (notebook 02's prompts; copied from
its runs on 2026-11-26). Every label is a person's verdict, written here by hand: rubric scores
from 1 (wrong or useless) to 5 (fully correct and helpful) against the reference, the scale the
rubric judge is given; preferences X (the variant's answer), Y (the baseline's) or tie.

    python datasets/human_labels/make_human_labels.py
"""

from __future__ import annotations

# (case id, template, the answer rated, score 1-5)
RUBRIC = [
    (
        "qa-028",
        "qa-zero-shot",
        "The second printer is out of order, so the only option left is to use the one in the lobby.",
        4,
    ),
    ("qa-013", "qa-zero-shot", "The support team answers chat messages until 8 am.", 1),
    (
        "qa-025",
        "qa-zero-shot",
        "The recipe requires 200 grams of flour, which is 200 grams of flour.",
        4,
    ),
    ("qa-014", "qa-zero-shot", "The novel was written by Chinua Achebe and published in 1958.", 5),
    ("qa-002", "qa-zero-shot", "The answer to the question is: 100 degrees Celsius.", 5),
    ("qa-009", "qa-zero-shot", "The museum is open on Tuesday, which is a Monday.", 1),
    ("qa-017", "qa-zero-shot", "Lena's dog is Bruno.", 5),
    (
        "qa-016",
        "qa-zero-shot",
        "No, the warranty does not cover accidental damage. The warranty only covers manufacturing defects and does not cover accidental damage.",
        4,
    ),
    ("qa-029", "qa-zero-shot", "Penguins primarily live in the Southern Hemisphere.", 5),
    ("qa-010", "qa-zero-shot", "The answer is: 2 hours.", 4),
    ("qa-028", "qa-three-shot", "the one in the lobby", 5),
    ("qa-013", "qa-three-shot", "8 am to 8 pm.", 4),
    (
        "qa-025",
        "qa-three-shot",
        "The recipe requires 200 grams of flour, which is 200 grams of flour.",
        4,
    ),
    (
        "qa-014",
        "qa-three-shot",
        "Chinnu Achebe and Josephine Baker\nChinnu Achebe was the author of the novel,",
        2,
    ),
    (
        "qa-002",
        "qa-three-shot",
        "100 degrees Celsius at sea level is 100 degrees Celsius at sea level.",
        3,
    ),
    ("qa-009", "qa-three-shot", "Monday", 5),
    ("qa-017", "qa-three-shot", "Lena's dog is Bruno.", 5),
    ("qa-016", "qa-three-shot", "No, the warranty does not cover accidental damage.", 5),
    (
        "qa-029",
        "qa-three-shot",
        "The Southern Hemisphere (Shem) is the only hemisphere where penguins are native.",
        3,
    ),
    ("qa-010", "qa-three-shot", "about two hours", 5),
    ("qa-028", "qa-reworded", "The second printer should be used.", 1),
    ("qa-013", "qa-reworded", "The support team answers chat messages until 8 am.", 1),
    (
        "qa-025",
        "qa-reworded",
        "The recipe needs 200 grams of flour, which is 200 grams of flour.",
        4,
    ),
    ("qa-014", "qa-reworded", "The novel was written by Chinua Achebe and published in 1958.", 5),
    ("qa-002", "qa-reworded", "At what temperature does water boil at sea level?", 1),
    ("qa-009", "qa-reworded", "The museum is open on the day of the week, which is Monday.", 2),
    ("qa-017", "qa-reworded", "Lena has a cat named Pixel and a dog named Bruno.", 4),
    ("qa-016", "qa-reworded", "No, the warranty does not cover accidental damage.", 5),
    ("qa-029", "qa-reworded", "Penguins are found exclusively in the Southern Hemisphere.", 4),
    ("qa-010", "qa-reworded", "The train from Lyon to Geneva takes about two hours.", 5),
    (
        "qa-001",
        "qa-zero-shot",
        "The Eiffel Tower was completed on 10 July 1889, marking the 100th",
        3,
    ),
    (
        "qa-003",
        "qa-zero-shot",
        "The company's head office is in Rotterdam, while its factory is in Eindhoven.",
        3,
    ),
    (
        "qa-004",
        "qa-zero-shot",
        "Maria joined the firm in 2015 and became head of finance in 2021.",
        3,
    ),
    ("qa-005", "qa-zero-shot", "The Amazon River reaches the Atlantic Ocean.", 5),
    ("qa-006", "qa-zero-shot", "The answer is 25.", 4),
    ("qa-007", "qa-zero-shot", "A library card costs 10 euros for adults.", 5),
    ("qa-008", "qa-zero-shot", "Mount Kilimanjaro is located in Tanzania, Africa.", 5),
    ("qa-011", "qa-zero-shot", "The gas released during photosynthesis is carbon dioxide.", 1),
    ("qa-012", "qa-zero-shot", "The return window for online orders is 30 days from delivery.", 5),
    (
        "qa-015",
        "qa-zero-shot",
        "The Pacific Ocean is the largest and deepest of the world's oceans.",
        5,
    ),
    ("qa-018", "qa-zero-shot", "The bridge is 1.2 kilometres long and was opened in 1998.", 4),
    (
        "qa-019",
        "qa-zero-shot",
        "Venus is the second planet from the Sun and the hottest planet in the solar system.",
        4,
    ),
    ("qa-020", "qa-zero-shot", "A baguette costs 1.20 baguettes.\n\nThe answer is: 1.2", 2),
    (
        "qa-021",
        "qa-zero-shot",
        "The final review is on 20 June, and the project kickoff is on 4 April.",
        4,
    ),
    (
        "qa-022",
        "qa-zero-shot",
        "The human heart has four chambers: two atria and two ventricles.",
        5,
    ),
    (
        "qa-023",
        "qa-zero-shot",
        'The answer to this question is: "Parking in the staff car park requires a blue permit from reception."',
        3,
    ),
    ("qa-024", "qa-zero-shot", "The capital of Canada is Ottawa, not Toronto.", 5),
    (
        "qa-026",
        "qa-zero-shot",
        "The answer to the question is: 8 minutes.\n\nThe answer is incorrect. The Earth takes approximately 3",
        2,
    ),
    (
        "qa-027",
        "qa-zero-shot",
        "The festival moved from August to July this year because of the heat.",
        4,
    ),
    ("qa-030", "qa-zero-shot", "The answer to this question is: Sara.", 1),
]

# (case id, variant X, baseline Y, X's answer, Y's answer, preference)
PAIRWISE = [
    (
        "qa-028",
        "qa-three-shot",
        "qa-zero-shot",
        "the one in the lobby",
        "The second printer is out of order, so the only option left is to use the one in the lobby.",
        "X",
    ),
    (
        "qa-013",
        "qa-three-shot",
        "qa-zero-shot",
        "8 am to 8 pm.",
        "The support team answers chat messages until 8 am.",
        "X",
    ),
    (
        "qa-025",
        "qa-three-shot",
        "qa-zero-shot",
        "The recipe requires 200 grams of flour, which is 200 grams of flour.",
        "The recipe requires 200 grams of flour, which is 200 grams of flour.",
        "tie",
    ),
    (
        "qa-014",
        "qa-three-shot",
        "qa-zero-shot",
        "Chinnu Achebe and Josephine Baker\nChinnu Achebe was the author of the novel,",
        "The novel was written by Chinua Achebe and published in 1958.",
        "Y",
    ),
    (
        "qa-002",
        "qa-three-shot",
        "qa-zero-shot",
        "100 degrees Celsius at sea level is 100 degrees Celsius at sea level.",
        "The answer to the question is: 100 degrees Celsius.",
        "Y",
    ),
    (
        "qa-009",
        "qa-three-shot",
        "qa-zero-shot",
        "Monday",
        "The museum is open on Tuesday, which is a Monday.",
        "X",
    ),
    (
        "qa-017",
        "qa-three-shot",
        "qa-zero-shot",
        "Lena's dog is Bruno.",
        "Lena's dog is Bruno.",
        "tie",
    ),
    (
        "qa-016",
        "qa-three-shot",
        "qa-zero-shot",
        "No, the warranty does not cover accidental damage.",
        "No, the warranty does not cover accidental damage. The warranty only covers manufacturing defects and does not cover accidental damage.",
        "X",
    ),
    (
        "qa-029",
        "qa-three-shot",
        "qa-zero-shot",
        "The Southern Hemisphere (Shem) is the only hemisphere where penguins are native.",
        "Penguins primarily live in the Southern Hemisphere.",
        "Y",
    ),
    ("qa-010", "qa-three-shot", "qa-zero-shot", "about two hours", "The answer is: 2 hours.", "X"),
    (
        "qa-028",
        "qa-reworded",
        "qa-zero-shot",
        "The second printer should be used.",
        "The second printer is out of order, so the only option left is to use the one in the lobby.",
        "Y",
    ),
    (
        "qa-013",
        "qa-reworded",
        "qa-zero-shot",
        "The support team answers chat messages until 8 am.",
        "The support team answers chat messages until 8 am.",
        "tie",
    ),
    (
        "qa-025",
        "qa-reworded",
        "qa-zero-shot",
        "The recipe needs 200 grams of flour, which is 200 grams of flour.",
        "The recipe requires 200 grams of flour, which is 200 grams of flour.",
        "tie",
    ),
    (
        "qa-014",
        "qa-reworded",
        "qa-zero-shot",
        "The novel was written by Chinua Achebe and published in 1958.",
        "The novel was written by Chinua Achebe and published in 1958.",
        "tie",
    ),
    (
        "qa-002",
        "qa-reworded",
        "qa-zero-shot",
        "At what temperature does water boil at sea level?",
        "The answer to the question is: 100 degrees Celsius.",
        "Y",
    ),
    (
        "qa-009",
        "qa-reworded",
        "qa-zero-shot",
        "The museum is open on the day of the week, which is Monday.",
        "The museum is open on Tuesday, which is a Monday.",
        "tie",
    ),
    (
        "qa-017",
        "qa-reworded",
        "qa-zero-shot",
        "Lena has a cat named Pixel and a dog named Bruno.",
        "Lena's dog is Bruno.",
        "Y",
    ),
    (
        "qa-016",
        "qa-reworded",
        "qa-zero-shot",
        "No, the warranty does not cover accidental damage.",
        "No, the warranty does not cover accidental damage. The warranty only covers manufacturing defects and does not cover accidental damage.",
        "X",
    ),
    (
        "qa-029",
        "qa-reworded",
        "qa-zero-shot",
        "Penguins are found exclusively in the Southern Hemisphere.",
        "Penguins primarily live in the Southern Hemisphere.",
        "Y",
    ),
    (
        "qa-010",
        "qa-reworded",
        "qa-zero-shot",
        "The train from Lyon to Geneva takes about two hours.",
        "The answer is: 2 hours.",
        "X",
    ),
]

REVIEWER = "workbench maintainers"
WHEN = "2026-11-26T06:00:00+00:00"


def main() -> None:
    import json
    from pathlib import Path

    from workbench.labels import Label, LabelStore

    here = Path(__file__).resolve().parent
    cases = {}
    for line in (here.parent / "tasks" / "qa.jsonl").read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        cases[case["id"]] = case
    rubric_items = [
        {"id": f"{cid}:{template}", "case_id": cid, "variant": template,
         "question": cases[cid]["input"], "answer": answer, "reference": cases[cid]["reference"]}
        for cid, template, answer, _ in RUBRIC
    ]  # fmt: skip # one item per line reads as the table it is
    pair_items = [
        {"id": f"{cid}:{x}~{y}", "case_id": cid, "variant": x, "baseline": y,
         "question": cases[cid]["input"], "answer_x": ax, "answer_y": ay,
         "reference": cases[cid]["reference"]}
        for cid, x, y, ax, ay, _ in PAIRWISE
    ]  # fmt: skip # same
    for name, items, labels, kind in (
        ("qa_rubric", rubric_items, [r[3] for r in RUBRIC], "rubric"),
        ("qa_pairwise", pair_items, [p[5] for p in PAIRWISE], "pairwise"),
    ):
        (here / f"{name}_items.jsonl").write_text(
            "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8"
        )
        path = here / f"{name}_labels.jsonl"
        path.unlink(missing_ok=True)
        store = LabelStore(path, items, kind)
        for item, label in zip(items, labels, strict=True):
            # Pairs were read with X (the variant's answer) shown first.
            first = "X" if kind == "pairwise" else None
            store.add(Label(item["id"], label, REVIEWER, shown_first=first, at=WHEN))
        print(f"{path}: {len(items)} labels")


if __name__ == "__main__":
    main()
