"""Gold-set parsing, SQuAD parsing, sampling and the SQuAD article writer (pure: no model, no index)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval import datasets, squad
from eval.datasets import DatasetError, Item


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- JSONL gold sets ---

def test_jsonl_rows_of_design_md(tmp_path):
    path = write_lines(
        tmp_path / "gold.jsonl",
        '{"id": "q17", "question": "How is SoFi USD backed?", "answers": ["backed fully by reserves"]}',
        "",
        '{"id": "u03", "question": "What is SoFi\'s stock ticker?", "answers": []}',
        '{"id": "f02", "history": ["What does the notice say about RWA tokenization?"], "question": "Who supervises it?",'
        ' "answers": ["China Securities Regulatory Commission"]}',
    )
    items = datasets.load_jsonl(path)
    assert [i.id for i in items] == ["q17", "u03", "f02"]
    assert items[0] == Item("q17", "How is SoFi USD backed?", ("backed fully by reserves",), ())
    assert (items[1].answerable, items[2].followup) == (False, True)
    assert items[2].history == ("What does the notice say about RWA tokenization?",)


@pytest.mark.parametrize("bad_line, message", [
    ('{"id": "a", "question": "Q?", "answers": ["x"]', r"gold.jsonl:2: not valid JSON .*one JSON object on each line"),
    ('["a", "Q?"]', r"gold.jsonl:2: a JSON list, not an object"),
    ('{"id": "b", "question": "Q?"}', r"gold.jsonl:2: 'answers' is missing; .*\[\] when the right response is to abstain"),
    ('{"id": "b", "question": "  ", "answers": []}', r"gold.jsonl:2: 'question' is missing or not a non-empty string"),
    ('{"id": 7, "question": "Q?", "answers": []}', r"gold.jsonl:2: 'id' is missing or not a non-empty string"),
    ('{"id": "b", "question": "Q?", "answers": "x"}', r"gold.jsonl:2: 'answers' must be a list of non-empty strings"),
    ('{"id": "b", "question": "Q?", "answers": ["x", ""]}', r"gold.jsonl:2: 'answers' must be a list of non-empty strings"),
    ('{"id": "b", "question": "Q?", "answers": [], "history": "earlier"}', r"gold.jsonl:2: 'history' must be a list"),
    ('{"id": "b", "question": "Q?", "answer": ["x"]}', r"gold.jsonl:2: unknown key\(s\) 'answer'; the keys are id, question"),
    ('{"id": "a", "question": "Q?", "answers": []}', r"gold.jsonl:2: id 'a' is already used on line 1; give each question its own id"),
])
def test_jsonl_bad_line_names_line_and_fix(tmp_path, bad_line, message):
    path = write_lines(tmp_path / "gold.jsonl", '{"id": "a", "question": "Q?", "answers": ["x"]}', bad_line)
    with pytest.raises(DatasetError, match=message):
        datasets.load_jsonl(path)


def test_jsonl_missing_or_empty_file(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        datasets.load_jsonl(tmp_path / "nope.jsonl")
    with pytest.raises(DatasetError, match="holds no questions"):
        datasets.load_jsonl(write_lines(tmp_path / "empty.jsonl", "", "  "))


# --- sampling ---

def test_sample_is_reproducible_and_follows_random_sample():
    import random

    items = [Item(f"q{i}", f"Q{i}?", ("x",)) for i in range(50)]
    picked = datasets.sample(items, 10, seed=0)
    assert picked == datasets.sample(items, 10, seed=0)
    assert picked == random.Random(0).sample(items, 10)
    assert picked != datasets.sample(items, 10, seed=1)
    assert len({i.id for i in picked}) == 10


@pytest.mark.parametrize("n", [0, 51])
def test_sample_refuses_counts_out_of_range(n):
    items = [Item(f"q{i}", "Q?", ()) for i in range(50)]
    with pytest.raises(DatasetError, match=f"--sample {n} is not between 1 and the 50 questions"):
        datasets.sample(items, n, seed=0)


# --- SQuAD ---

def squad_json(version: str) -> dict:
    qas_one = [
        {"id": "s1", "question": "Who won Super Bowl 50?",
         "answers": [{"text": "Denver Broncos", "answer_start": 4}, {"text": "Denver Broncos", "answer_start": 4},
                     {"text": "Broncos", "answer_start": 11}]},
    ]
    qas_two = [{"id": "s2", "question": "Where was it played?", "answers": [{"text": "Santa Clara", "answer_start": 0}]}]
    if version == "v2.0":
        qas_two.append({"id": "s3", "question": "Who lost Super Bowl 51?", "answers": [], "is_impossible": True,
                        "plausible_answers": [{"text": "Carolina Panthers", "answer_start": 0}]})
    return {"version": version, "data": [
        {"title": "Super_Bowl_50", "paragraphs": [
            {"context": "The Denver Broncos won.", "qas": qas_one},
            {"context": "Santa Clara hosted it.", "qas": qas_two},
        ]},
        {"title": "Sky_(United_Kingdom)", "paragraphs": [{"context": "Sky is a broadcaster.", "qas": []}]},
    ]}


def test_squad_v11_articles_and_questions(tmp_path):
    path = tmp_path / "dev-v1.1.json"
    path.write_text(json.dumps(squad_json("1.1")))
    articles, items = squad.load(path)
    assert [a.title for a in articles] == ["Super_Bowl_50", "Sky_(United_Kingdom)"]
    assert articles[0].paragraphs == ("The Denver Broncos won.", "Santa Clara hosted it.")
    assert items == [Item("s1", "Who won Super Bowl 50?", ("Denver Broncos", "Broncos")),
                     Item("s2", "Where was it played?", ("Santa Clara",))]


def test_squad_v20_impossible_questions_have_no_answers(tmp_path):
    path = tmp_path / "dev-v2.0.json"
    path.write_text(json.dumps(squad_json("v2.0")))
    _, items = squad.load(path)
    assert items[-1] == Item("s3", "Who lost Super Bowl 51?", ())
    assert [i.answerable for i in items] == [True, True, False]


def test_squad_refuses_files_that_are_not_squad(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"rows": []}')
    with pytest.raises(DatasetError, match="no top-level 'data' list"):
        squad.load(path)
    path.write_text('{"data": [{"title": "T", "paragraphs": [{"qas": []}]}]}')
    with pytest.raises(DatasetError, match=r"data\[0\]: missing or malformed 'context'"):
        squad.load(path)


def test_follow_ups_ask_an_articles_questions_as_a_chat_that_does_not_name_it_again():
    def article(title, questions):   # three questions: always one chat
        qs = [Item(f"{title}{i}", q, (f"answer {i}",)) for i, q in enumerate(questions)]
        return squad.Article(title, ("Text.",), tuple(q.id for q in qs)), qs
    bowl, bowl_qs = article("Super_Bowl_50", ["Which team won Super Bowl 50?", "Who sang the anthem?",
                                              "What was Super Bowl 50's halftime show?"])
    sky, sky_qs = article("Sky_(United_Kingdom)", ["Who founded the company?", "What does Sky broadcast?",
                                                   "Who is the chairman of the Sky?"])
    gas, gas_qs = article("Oxygen", ["What is its symbol?", "Is it a gas?", "Who found it?"])
    items = squad.follow_ups([bowl, sky, gas], bowl_qs + sky_qs + gas_qs + [Item("x", "In no article?", ())])
    assert items == [
        # every later question of the chat: one that does not name the article as asked ...
        Item("Super_Bowl_501", "Who sang the anthem?", ("answer 1",), ("Which team won Super Bowl 50?",)),
        # ... one that names it with "its" for the name
        Item("Super_Bowl_502", "What was its halftime show?", ("answer 2",),
             ("Which team won Super Bowl 50?", "Who sang the anthem?")),
        # the chat opens on the first question naming the article ("(United Kingdom)" left out of the name);
        # a name after a preposition is dropped with it
        Item("Sky_(United_Kingdom)2", "Who is the chairman?", ("answer 2",), ("What does Sky broadcast?",)),
    ]   # and none opens on Oxygen: no question names it
    assert squad.follow_ups([bowl, sky, gas], bowl_qs + sky_qs + gas_qs) == items   # the same chats each time


def test_article_text_and_file_name():
    article = squad.Article("Sky_(United_Kingdom)", ("First para.", "Second para."))
    assert article.text == "Sky (United Kingdom)\n\nFirst para.\n\nSecond para.\n"
    assert article.filename == "Sky__United_Kingdom_.txt"
    assert squad.Article("Fresno,_California", ()).filename == "Fresno__California.txt"


def test_write_articles_rewrites_only_changed_files_and_drops_stale_ones(tmp_path):
    docs = tmp_path / "docs"
    one, two = squad.Article("One", ("a",)), squad.Article("Two", ("b",))
    assert squad.write_articles([one, two], docs) == 2
    assert (docs / "One.txt").read_bytes() == b"One\n\na\n"
    before = (docs / "One.txt").stat().st_mtime_ns
    assert squad.write_articles([one, two], docs) == 0            # unchanged: nothing written
    assert (docs / "One.txt").stat().st_mtime_ns == before
    assert squad.write_articles([one, squad.Article("Two", ("b", "c"))], docs) == 1
    assert (docs / "Two.txt").read_text() == "Two\n\nb\n\nc\n"
    assert squad.write_articles([one], docs) == 1                 # Two.txt left the set
    assert sorted(p.name for p in docs.iterdir()) == ["One.txt"]


def test_default_cache_is_per_file_stem():
    assert squad.default_cache(Path("../shared/benchmarks/squad/dev-v1.1.json")) == Path(".verbatim-eval/dev-v1.1")


def test_shared_squad_files_parse_with_official_counts():
    """The shared dev sets (when present) give the question counts the benchmarks README states."""
    root = Path("/work/shared/benchmarks/squad")
    if not root.exists():
        pytest.skip("shared SQuAD copies not on this machine")
    articles, items = squad.load(root / "dev-v1.1.json")
    assert (len(articles), len(items)) == (48, 10_570)
    articles, items = squad.load(root / "dev-v2.0.json")
    assert (len(articles), len(items), sum(not i.answerable for i in items)) == (35, 11_873, 5_945)


# --- the staff sets: dev (decisions were made on it) and check (written apart, measured before and after) ---

@pytest.mark.parametrize("name, size, unanswerable, followups", [
    ("staff_dev", 91, 24, 53),
    ("staff_check", 100, 24, 62),
])
def test_staff_set_answers_are_in_its_documents_as_loaded(name, size, unanswerable, followups):
    """Every answer of eval/data/<name>/qa.jsonl is text of one of its documents as Verbatim loads them (web pages
    through their main content, white space as the eval folds it), and every chat's earlier questions are items."""
    from embeddings.loaders import load
    from eval.metrics import fold

    folder = Path(__file__).resolve().parents[2] / "eval" / "data" / name
    texts = [fold(load(path).text) for path in sorted((folder / "docs").iterdir())]
    items = datasets.load_jsonl(folder / "qa.jsonl")
    assert (len(items), sum(not i.answerable for i in items), sum(i.followup for i in items)) == \
        (size, unanswerable, followups)
    asked = {i.question for i in items}
    for item in items:
        for answer in item.answers:
            assert any(fold(answer) in text for text in texts), (item.id, answer)
        assert set(item.history) <= asked, item.id
