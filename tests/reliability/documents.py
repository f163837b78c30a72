"""Made-up staff documents of any size for the reliability tests, each able to carry one planted fact.

Filler is plain English prose from a small vocabulary (seeded), in paragraphs, so the splitter and the
model see ordinary text; the planted sentence is what a question can find.
"""
from __future__ import annotations

import random

WORDS = ("policy staff leave office parking badge security holiday expense travel claim manager approval "
         "budget report quarter annual review training laptop desk meeting schedule contract supplier invoice "
         "payroll pension team project deadline").split()


def prose(chars: int, seed: int, fact: str = "") -> str:
    """About `chars` characters of paragraphs; `fact` (a sentence) sits in the middle when given."""
    rng = random.Random(seed)
    paragraphs: list[str] = []
    size = 0
    while size < chars:
        sentences = (" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18))).capitalize() + "."
                     for _ in range(rng.randint(2, 6)))
        paragraphs.append(" ".join(sentences))
        size += len(paragraphs[-1]) + 2
    if fact:
        paragraphs.insert(len(paragraphs) // 2, fact)
    return "\n\n".join(paragraphs) + "\n"
