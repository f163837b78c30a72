"""Indexing with the real model and real FAISS: offsets, incremental updates, removal, bad input, crashes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import CORPUS, ROOT
from embeddings import store
from embeddings.indexer import Indexer, embedded_text
from embeddings.store import IndexUnusable


def test_every_passage_and_sentence_is_verbatim(corpus_index_dir, settings):
    index = store.load(corpus_index_dir, settings.model_name)
    assert len(index.documents) == 1 and index.size > 20
    doc = index.documents[0]
    for i in range(index.size):
        p = index.passage(i)
        assert doc.text[p.start:p.end] == p.text and p.text.strip() == p.text
    for i in range(len(index.s_start)):
        s = index.sentence(i)
        assert doc.text[s.start:s.end] == s.text
    assert np.allclose(np.linalg.norm(index.passage_vecs, axis=1), 1, atol=1e-4)
    assert np.allclose(np.linalg.norm(index.sentence_vecs, axis=1), 1, atol=1e-4)
    assert index.dense.ntotal == index.size and type(index.dense).__name__ == "IndexFlatIP"


def test_no_passage_is_truncated_by_the_model_window(corpus_index_dir, settings, encoder):
    index = store.load(corpus_index_dir, settings.model_name)
    for i in range(index.size):
        p = index.passage(i)
        embedded = embedded_text(p.text, p.section, index.documents[0].title)
        assert encoder.count_tokens(embedded) + 2 <= encoder.max_tokens


def test_boilerplate_is_not_indexed(corpus_index_dir, settings):
    index = store.load(corpus_index_dir, settings.model_name)
    texts = index.passage_texts()
    assert not any("Read more" in t or "Popular coins" in t or "You may also like" in t for t in texts)
    assert any(p.section == "Frequently Asked Questions › What is SoFi USD, and how is it backed?"
               for p in map(index.passage, range(index.size)))


def test_reindexing_unchanged_embeds_nothing(index_copy, settings, encoder):
    before = (index_copy / "manifest.json").read_bytes()
    summary = Indexer(settings.replace(index_dir=index_copy), encoder).index([CORPUS])
    assert (summary.unchanged, summary.added, summary.updated, summary.embedded) == (1, 0, 0, 0)
    assert (index_copy / "manifest.json").read_bytes() == before   # not even rewritten


def test_changed_file_re_embeds_only_itself(tmp_path, settings, encoder):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Travel policy\n\nStaff book trains at least two weeks ahead.\n", encoding="utf-8")
    (docs / "b.md").write_text("# Leave\n\nStaff get thirty days of paid leave a year.\n", encoding="utf-8")
    indexer = Indexer(settings.replace(index_dir=tmp_path / "index"), encoder)
    first = indexer.index([docs])
    assert first.added == 2 and first.embedded == first.passages
    (docs / "a.txt").write_text("Travel policy\n\nStaff book flights at least three weeks ahead.\n", encoding="utf-8")
    second = indexer.index([docs])
    assert (second.updated, second.unchanged, second.added) == (1, 1, 0)
    index = store.load(tmp_path / "index", settings.model_name)
    a_passages = int((index.p_doc == index.by_id[next(d.doc_id for d in index.documents if d.source.endswith("a.txt"))]).sum())
    assert second.embedded == a_passages   # b.md's vectors were kept, not recomputed
    assert any("three weeks" in t for t in index.passage_texts())
    assert not any("two weeks" in t for t in index.passage_texts())
    assert len(index.documents) == 2


def test_remove_by_id_and_by_path(tmp_path, settings, encoder, index_copy):
    indexer = Indexer(settings.replace(index_dir=index_copy), encoder)
    extra = tmp_path / "extra.txt"
    extra.write_text("Expense claims are paid within ten working days.\n", encoding="utf-8")
    indexer.index([extra])
    assert len(indexer.documents()) == 2
    gone = indexer.remove(str(extra))
    assert gone.source == str(extra) and len(indexer.documents()) == 1
    bundled = indexer.documents()[0]
    indexer.remove(bundled.doc_id)
    assert indexer.documents() == []
    assert store.load(index_copy, settings.model_name).size == 0
    with pytest.raises(KeyError, match="verbatim docs"):
        indexer.remove("no-such-doc")


def test_other_model_or_format_is_refused_with_rebuild_advice(index_copy, settings):
    with pytest.raises(IndexUnusable, match="--rebuild"):
        store.load(index_copy, "some-other-model")
    manifest = json.loads((index_copy / "manifest.json").read_text())
    manifest["version"] = 999
    (index_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexUnusable, match="format .* v999.*--rebuild"):
        store.load(index_copy, settings.model_name)


def test_rebuild_rereads_indexed_files(index_copy, settings, encoder):
    manifest = json.loads((index_copy / "manifest.json").read_text())
    manifest["model"] = "an-old-model"
    (index_copy / "manifest.json").write_text(json.dumps(manifest))
    summary = Indexer(settings.replace(index_dir=index_copy), encoder).index([], rebuild=True)
    assert summary.added == 1 and summary.passages > 20
    assert store.load(index_copy, settings.model_name).size == summary.passages


def test_bad_files_are_skipped_with_reasons_and_nothing_is_lost(tmp_path, settings, encoder, index_copy):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(b"\x00\x01\x02binary\x00")
    (bad / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (bad / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n....")
    (bad / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (bad / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    (bad / "good.txt").write_text("Parking permits are renewed every January.\n", encoding="utf-8")
    summary = Indexer(settings.replace(index_dir=index_copy), encoder).index([bad])
    reasons = {Path(s.source).name: s.reason for s in summary.skipped}
    assert set(reasons) == {"empty.txt", "binary.txt", "latin1.txt", "image.png", "broken.pdf", "broken.docx"}
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert "unsupported" in reasons["image.png"]
    assert "PDF" in reasons["broken.pdf"] and "DOCX" in reasons["broken.docx"]
    assert summary.added == 1 and summary.documents == 2   # the bundled page is still there
    assert "skipped" in summary.line() and "latin1.txt" in summary.line()


def test_missing_path_is_an_error_naming_it_and_changes_nothing(index_copy, settings, encoder):
    before = (index_copy / "manifest.json").read_bytes()
    with pytest.raises(FileNotFoundError, match="no/such/folder"):
        Indexer(settings.replace(index_dir=index_copy), encoder).index([CORPUS, "no/such/folder"])
    assert (index_copy / "manifest.json").read_bytes() == before


KILLED_SAVE = textwrap.dedent("""
    import sys, time
    from embeddings import store
    from embeddings.indexer import Indexer
    from embeddings.settings import Settings
    real_fsync = store._fsync_tree
    def slow_fsync(folder):   # the new index is half on disk: say so, then wait to be killed
        print("SAVING", flush=True)
        time.sleep(60)
    store._fsync_tree = slow_fsync
    Indexer(Settings(index_dir=sys.argv[1])).index([sys.argv[2]])
""")


def test_process_killed_while_saving_leaves_previous_index_loadable(tmp_path, index_copy, settings):
    new = tmp_path / "new.txt"
    new.write_text("The cafeteria opens at eight in the morning.\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(index_copy), str(new)],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.time() + 120
        line = ""
        while time.time() < deadline and "SAVING" not in line:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
        assert "SAVING" in line, "the indexer never reached its save"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    index = store.load(index_copy, settings.model_name)
    assert len(index.documents) == 1 and "cafeteria" not in index.documents[0].text
    # the next run completes the work and clears the leftovers
    summary = Indexer(settings.replace(index_dir=index_copy)).index([new])
    assert summary.added == 1 and summary.documents == 2


def test_crash_between_the_two_renames_is_recovered(index_copy, settings):
    old = index_copy.with_name(f".{index_copy.name}.old")
    os.rename(index_copy, old)   # the moment after the old index was moved aside, before the new one moved in
    index = store.load(index_copy, settings.model_name)
    assert index.size > 20 and index_copy.is_dir() and not old.exists()


def test_loaders_end_to_end_through_the_indexer(tmp_path, settings, encoder):
    from docx import Document as Docx
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "page.html").write_text(
        "<html><head><title>Remote work</title></head><body><nav>Home | About</nav><article><h1>Remote work</h1>"
        "<p>Staff may work remotely up to three days a week with their manager's approval.</p>"
        "<p>Requests go through the staff portal at least one day before the remote day, and a manager answers "
        "within one working day. Teams keep one shared office day each week for planning and reviews.</p>"
        "<h2>Equipment</h2><p>The company provides a laptop and a monitor for home offices.</p>"
        "<p>Broken equipment is replaced by the IT desk within three working days of a ticket.</p></article>"
        "<footer>Copyright</footer></body></html>", encoding="utf-8")
    pdf = canvas.Canvas(str(folder / "safety.pdf"), pagesize=A4)
    pdf.drawString(72, 780, "Fire Safety")
    pdf.drawString(72, 750, "Fire drills are held every quarter on the first Monday.")
    pdf.save()
    d = Docx()
    d.add_heading("Expenses", level=1)
    d.add_paragraph("Receipts must be submitted within thirty days of purchase.")
    d.save(str(folder / "expenses.docx"))
    (folder / "notes.md").write_text("# Notes\n\n## Parking\n\nVisitors park on level two.\n", encoding="utf-8")
    summary = Indexer(settings.replace(index_dir=tmp_path / "index"), encoder).index([folder])
    assert summary.added == 4 and not summary.skipped, summary.line()
    index = store.load(tmp_path / "index", settings.model_name)
    for i in range(index.size):
        p = index.passage(i)
        assert index.document(p.doc_id).text[p.start:p.end] == p.text
    texts = " ".join(index.passage_texts())
    for phrase in ("three days a week", "every quarter", "thirty days of purchase", "level two"):
        assert phrase in texts
    assert "Home | About" not in texts and "Copyright" not in texts
