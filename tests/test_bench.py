"""`python -m eval.bench`: a tiny real run (seconds) checks the JSON's shape and that every ratio is computed;
the full run and the scale run are slow. The scale helpers are checked against the real BM25 and FAISS."""
from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from eval import bench
from eval.bench_stats import Check, Ratio, spread


def test_spread_and_ratio():
    assert spread([3.0, 1.0, 2.0]) == {"min": 1.0, "median": 2.0, "max": 3.0}
    assert all(math.isnan(v) for v in spread([]).values())
    assert Ratio("r", 1.0, [0.8, 1.1, 0.9]).met is True
    assert Ratio("r", 1.0, [1.2, 1.1, 0.9]).met is False
    assert Ratio("r", 1.0).met is None
    d = Ratio("r", 1.3, [1.0, 2.0]).to_dict()
    assert (d["min"], d["median"], d["max"], d["rounds"], d["met"]) == (1.0, 1.5, 2.0, 2, False)


def test_table_marks_missed_targets():
    results = {
        "ratios": [Ratio("fast", 1.0, [0.5]).to_dict(), Ratio("slow", 1.0, [2.0]).to_dict()],
        "checks": [Check("no torch", False, True).to_dict()],
        "machine": {"cpu": "cpu", "cores": 2, "memory_bytes": 2**34, "load_average": [1.0, 1, 1], "load_average_after": [2.0, 2, 2]},
        "run": {"encoder_backend": "onnx"},
    }
    text = bench.table(results)
    assert "| fast | ≤ 1 | 0.50 | 0.50 | 0.50 | yes |" in text
    assert "| slow | ≤ 1 | 2.00 | 2.00 | 2.00 | **no** |" in text
    assert "2 cores" in text and "encoder backend onnx" in text


def test_parse_args_refuses_unknown_sections_and_scale_without_sizes():
    with pytest.raises(SystemExit):
        bench.parse_args(["--sections", "query,nope"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--sections", "scale"])
    args = bench.parse_args(["--scale", "1000"])
    assert "scale" in args.sections and args.scale == [1000]
    quick = bench.parse_args(["--quick"])
    assert (quick.rounds, quick.questions, quick.peers) == (2, 5, [])


def test_quick_run_writes_ratios_as_json(tmp_path, corpus_index_dir, capsys):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(corpus_index_dir, work / "bundled")   # the session's index: the tiny run skips indexing
    out = tmp_path / "bench.json"
    assert bench.main(["--quick", "--sections", "query,reindex", "--work", str(work), "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert set(results) >= {"machine", "run", "ratios", "checks", "measures"}
    assert results["machine"]["cores"] >= 1 and results["run"]["quick"] is True
    names = [r["name"] for r in results["ratios"]]
    assert any(n.startswith("query p50 bundled corpus: ask / limit") for n in names)
    assert any(n.startswith("re-index unchanged bundled corpus") for n in names)
    for r in results["ratios"]:
        assert r["rounds"] == 2 and len(r["values"]) == 2
        assert 0 < r["min"] <= r["median"] <= r["max"] and isinstance(r["met"], bool)
    embedded = next(c for c in results["checks"] if c["name"].endswith("texts embedded"))
    assert embedded["value"] == 0 and embedded["met"]
    assert "| target | limit | min | median | max | met |" in capsys.readouterr().out


def test_repeated_bm25_is_the_index_copied(bot):
    from embeddings.lexical import terms
    from eval.bench_scale import repeated_bm25

    lexical = bot.index.bm25_passages
    copied = repeated_bm25(lexical, 3)
    query = terms("How is SoFi USD backed by reserves?")
    np.testing.assert_array_equal(copied.scores(query), np.tile(lexical.scores(query), 3))
    rows = np.array([0, lexical.size + 1, 3 * lexical.size - 1])
    np.testing.assert_array_equal(copied.scores_of(query, rows), copied.scores(query)[rows])


def test_repeated_index_answers_from_the_copies(bot):
    from assistant import Assistant
    from embeddings import store
    from eval.bench_scale import noisy_copies, repeated_index

    index = bot.index
    vecs = noisy_copies(index.passage_vecs, 2 * index.size, noise=0.0)
    big = repeated_index(index, 2, vecs, store.build_dense(vecs, 10**9))
    assert big.size == 2 * index.size and len(big.documents) == 2 * len(index.documents)
    assert big.passage(index.size).text == index.passage(0).text
    answer = Assistant(bot.settings, big, bot.encoder, bot.ranker).ask("How is SoFi USD backed?")
    assert answer.passages and all(p.text in {index.passage(i).text for i in range(index.size)} for p in answer.passages)


def test_noisy_copies_are_unit_vectors_near_their_originals():
    from eval.bench_scale import noisy_copies

    base = np.eye(4, 384, dtype=np.float32)
    out = noisy_copies(base, 10, noise=0.3)
    assert out.shape == (10, 384)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    cos = (out * base[np.arange(10) % 4]).sum(axis=1)
    assert (cos > 0.9).all()


@pytest.mark.slow
def test_full_bench_meets_its_query_and_start_targets(tmp_path):
    out = tmp_path / "bench.json"
    assert bench.main(["--rounds", "3", "--questions", "30", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    by_name = {r["name"]: r for r in results["ratios"]}
    assert any("SQuAD" in n for n in by_name)
    assert all(c["met"] for c in results["checks"])


@pytest.mark.slow
def test_scale_100k_answers_within_budget(tmp_path):
    out = tmp_path / "bench.json"
    assert bench.main(["--sections", "scale", "--scale", "100000", "--questions", "25", "--json", str(out)]) == 0
    result = json.loads(out.read_text())["measures"]
    scale = next(v for k, v in result.items() if k.startswith("scale."))
    assert scale["dense"] == "IndexFlatIP"   # exact search up to Settings.ann_above (200k) passages
    assert scale["recall_at_10"] >= 0.95 and scale["ask_p50_ms"] <= 50
