"""`python -m eval` as a subprocess: the real model and a real index built into tmp_path from the bundled corpus."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from embeddings.settings import Settings

ROOT = Path(__file__).parents[2]

TINY = [
    {"id": "a1", "question": "How is SoFi USD backed?", "answers": ["backed fully by reserves", "fully backed one-to-one by US dollars"]},
    {"id": "a2", "question": "How many members does SoFi have?", "answers": ["12.6 million"]},
    {"id": "a3", "question": "How much of his personal portfolio has Noto invested in crypto?", "answers": ["3%"]},
    {"id": "u1", "question": "What is SoFi's stock ticker symbol?", "answers": []},
    {"id": "f1", "history": ["What does the notice say about RWA tokenization?"], "question": "Who supervises it?",
     "answers": ["China Securities Regulatory Commission"]},
]
ANSWER_KEYS = {"id", "question", "answer", "abstained", "confidence", "quotes", "passages"}
SPAN_KEYS = {"text", "doc_id", "source", "title", "section", "start", "end", "score"}


def eval_cli(*args: str, index: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VERBATIM_INDEX": str(index)}
    return subprocess.run([sys.executable, "-m", "eval", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("eval")
    (path / "tiny.jsonl").write_text("".join(json.dumps(row) + "\n" for row in TINY), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def full_run(workdir):
    """One run with every output: the index is built on first use, into tmp_path."""
    proc = eval_cli("--data", str(workdir / "tiny.jsonl"), "--report", str(workdir / "out"),
                    "--predictions", str(workdir / "preds.jsonl"), index=workdir / "index")
    return proc


def test_run_prints_the_table_and_exits_0(full_run, workdir):
    assert full_run.returncode == 0, full_run.stderr
    assert full_run.stdout.startswith("tiny: 5 questions")
    for row in ("| metric | base |", "| hit@1 |", "| abstention recall |", "| verbatim share (failures) |"):
        assert row in full_run.stdout
    assert (workdir / "index").is_dir()  # VERBATIM_INDEX was honoured: the index was built in tmp_path


def test_predictions_follow_the_answer_json_contract(full_run, workdir):
    rows = [json.loads(line) for line in (workdir / "preds.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [row["id"] for row in TINY]
    corpus = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "corpus").iterdir()}
    for row, gold in zip(rows, TINY):
        assert set(row) == ANSWER_KEYS
        assert row["question"] == gold["question"]
        assert isinstance(row["abstained"], bool) and 0.0 <= row["confidence"] <= 1.0
        assert row["passages"], "passages are listed even when abstaining"
        if row["abstained"]:
            assert row["quotes"] == []
        else:
            assert row["answer"] == "\n\n".join(q["text"] for q in row["quotes"])
        for span in row["quotes"] + row["passages"]:
            assert SPAN_KEYS <= set(span)
            assert corpus[Path(span["source"]).name][span["start"]:span["end"]] == span["text"]


def test_report_folder_holds_report_json_and_plots(full_run, workdir):
    out = workdir / "out"
    for plot in ("tradeoff.png", "hit_at_k.png", "latency.png"):
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| hit@1 |" in report and "## Abstention threshold" in report and "![abstention trade-off](tradeoff.png)" in report
    data = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert (data["version"], data["dataset"], data["count"]) == (1, "tiny", 5)
    (run,) = data["runs"]
    assert run["label"] == "base" and run["settings"]["index_dir"] == str(workdir / "index")
    m = run["metrics"]
    assert (m["questions"], m["answerable"], m["unanswerable"], m["followups"]) == (5, 4, 1, 1)
    assert m["verbatim_share"] == 1.0 and m["verbatim_failures"] == 0
    assert set(m["recall_at_k"]) == {str(k) for k in range(1, run["settings"]["top_k"] + 1)}
    assert set(m["hit_at_k"]) == {str(k) for k in range(1, run["settings"]["max_quotes"] + 1)}
    for key in ("hit_at_1", "hit_at_shown", "mrr", "false_abstention_rate", "abstention_recall"):
        assert 0.0 <= m[key] <= 1.0
    assert 0 < m["latency_p50_ms"] <= m["latency_p95_ms"]
    assert m["tradeoff"][0]["threshold"] == 0.0


def test_gate_fails_with_an_impossible_floor(full_run, workdir):
    floors = workdir / "impossible.json"
    floors.write_text(json.dumps({"floors": {"hit_at_1": 1.01}, "ceilings": {"verbatim_failures": 0}}))
    proc = eval_cli("--data", str(workdir / "tiny.jsonl"), "--gate", str(floors), index=workdir / "index")
    assert proc.returncode == 1, proc.stderr
    assert "gate FAILED" in proc.stdout
    assert "hit_at_1" in proc.stdout and "is below its floor 1.01" in proc.stdout
    assert "verbatim_failures" not in proc.stdout.split("gate FAILED")[1]


def test_compare_puts_settings_side_by_side(full_run, workdir):
    proc = eval_cli("--data", str(workdir / "tiny.jsonl"), "--compare", "fusion=rrf,fusion=convex;top_k=4",
                    "--predictions", str(workdir / "cmp.jsonl"), "--limit", "3", index=workdir / "index")
    assert proc.returncode == 0, proc.stderr
    assert "tiny: 3 questions" in proc.stdout
    assert "| metric | fusion=rrf | fusion=convex;top_k=4 |" in proc.stdout
    assert f"| retrieval recall@{Settings().top_k} |" in proc.stdout  # the union of both runs' k (4 and the default)
    for name in ("cmp.fusion=rrf.jsonl", "cmp.fusion=convex_top_k=4.jsonl"):
        assert len((workdir / name).read_text().splitlines()) == 3


@pytest.mark.slow
def test_squad_file_gets_its_own_reused_index(tmp_path):
    data = {"version": "v2.0", "data": [
        {"title": "Super_Bowl_50", "paragraphs": [
            {"context": "The Denver Broncos defeated the Carolina Panthers 24–10.",
             "qas": [{"id": "s1", "question": "Who won Super Bowl 50?",
                      "answers": [{"text": "Denver Broncos", "answer_start": 4}]}]},
            {"context": "The game was played on February 7, 2016, at Levi's Stadium in Santa Clara, California.",
             "qas": [{"id": "s3", "question": "Where was Super Bowl 50 played?",
                      "answers": [{"text": "Levi's Stadium", "answer_start": 44}]}]}]},
        {"title": "Oxygen", "paragraphs": [{"context": "Oxygen is a chemical element with symbol O and atomic number 8.",
                                             "qas": [{"id": "s2", "question": "What is the atomic number of gold?",
                                                      "answers": [], "is_impossible": True}]}]},
    ]}
    (tmp_path / "mini.json").write_text(json.dumps(data))
    cache = tmp_path / "cache"
    args = ("--squad", str(tmp_path / "mini.json"), "--cache", str(cache), "--report", str(tmp_path / "out"))
    first = eval_cli(*args, index=tmp_path / "unused")
    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in (cache / "docs").iterdir()) == ["Oxygen.txt", "Super_Bowl_50.txt"]
    assert (cache / "docs" / "Oxygen.txt").read_text() == "Oxygen\n\n" + data["data"][1]["paragraphs"][0]["context"] + "\n"
    assert "mini: 3 questions" in first.stdout
    assert (cache / "index").is_dir() and not (tmp_path / "unused").exists()
    before = {p.name: p.stat().st_mtime_ns for p in (cache / "docs").iterdir()}
    second = eval_cli(*args, index=tmp_path / "unused")
    assert second.returncode == 0, second.stderr
    assert {p.name: p.stat().st_mtime_ns for p in (cache / "docs").iterdir()} == before
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert (metrics["dataset"], metrics["count"]) == ("mini", 3)
    assert metrics["runs"][0]["metrics"]["unanswerable"] == 1
    # asked as a chat: "Where was it played?" after "Who won Super Bowl 50?"
    chat = eval_cli(*args[:4], "--follow-ups", "--predictions", str(tmp_path / "chat.jsonl"), index=tmp_path / "unused")
    assert chat.returncode == 0, chat.stderr
    assert "mini follow-ups: 1 questions" in chat.stdout
    answer = json.loads((tmp_path / "chat.jsonl").read_text())
    assert answer["question"] == "Where was it played?" and "Levi's Stadium" in answer["quotes"][0]["text"]


# --- refusals before anything is loaded (fast: no model, no index) ---

@pytest.mark.parametrize("args, message", [
    (("--compare", "nosuch=1"), "'nosuch=1' is not a setting assignment"),
    (("--compare", "fusion=rrf,,fusion=convex"), "has an empty item"),
    (("--set", "top_k=0"), "top_k must be greater than 0"),
    (("--sample", "9"), "--sample 9 is not between 1 and the 5 questions"),
    (("--gate", "no-such-floors.json"), "no such file; give the floors file"),
    (("--follow-ups",), "--follow-ups only applies to --squad"),
])
def test_bad_input_exits_2_with_the_fix(workdir, args, message):
    proc = eval_cli("--data", str(workdir / "tiny.jsonl"), *args, index=workdir / "never")
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not (workdir / "never").exists()


def test_bad_dataset_line_exits_2_naming_the_line(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"id": "a", "question": "Q?", "answers": []}\n{"id": "b", "question": "Q?"}\n')
    proc = eval_cli("--data", str(tmp_path / "bad.jsonl"), index=tmp_path / "never")
    assert proc.returncode == 2
    assert f"{tmp_path / 'bad.jsonl'}:2: 'answers' is missing" in proc.stderr


def test_cuad_layout_asks_each_question_of_its_own_contract(tmp_path):
    folder = tmp_path / "cuad"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "lease.txt").write_text(
        "LEASE AGREEMENT\n\n1. Term. The lease runs for five years from the start date.\n\n"
        "2. Termination. Either party may terminate this lease on ninety days' written notice.\n", encoding="utf-8")
    (folder / "docs" / "supply.txt").write_text(
        "SUPPLY AGREEMENT\n\n1. Term. This supply agreement runs for two years.\n\n"
        "2. Governing law. This agreement is governed by the laws of Delaware.\n", encoding="utf-8")
    rows = [
        {"id": "l1", "doc": "lease.txt", "question": "Can a party terminate the agreement?",
         "answers": ["Either party may terminate this lease"], "category": "Termination"},
        {"id": "s1", "doc": "supply.txt", "question": "Can a party terminate the agreement?", "answers": [],
         "category": "Termination"},
    ]
    (folder / "dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    preds = tmp_path / "preds.jsonl"
    proc = eval_cli("--cuad", str(folder), "--predictions", str(preds), "--index", str(tmp_path / "index"),
                    index=tmp_path / "unused")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("cuad: 2 questions")
    out = {r["id"]: r for r in map(json.loads, preds.read_text(encoding="utf-8").splitlines())}
    for key, name in (("l1", "lease.txt"), ("s1", "supply.txt")):
        assert len(out[key]["doc_ids"]) == 1
        assert {p["source"].rsplit("/", 1)[-1] for p in out[key]["passages"]} == {name}
    assert "Either party may terminate" in out["l1"]["answer"]


def test_contracts_picks_a_part_of_the_cuad_contracts_and_needs_cuad(tmp_path):
    from eval.__main__ import parse_args

    assert parse_args(["--cuad", "x", "--contracts", "measure"]).contracts == "measure"
    with pytest.raises(SystemExit):
        parse_args(["--data", "x.jsonl", "--contracts", "measure"])
    with pytest.raises(SystemExit):
        parse_args(["--cuad", "x", "--contracts", "test"])
