"""Faults: a full disk, an unwritable or impossible index folder, two indexers at once.

Each is a clear error naming the folder and the fix, and never a damaged index: the previous index
still loads as it was. Two `verbatim index` processes are serialised by the lock beside the index.
"""
from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, webui
from embeddings import store
from embeddings.indexer import IndexBusy, Indexer
from embeddings.store import IndexUnusable

from .conftest import record
from .documents import prose
from .harness import child_env, cli, holds_lock, leftovers, whole_index, without_root_override

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _fingerprint(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder`, by relative path: equal fingerprints, untouched index."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _memo(folder: Path, name: str = "memo.txt", chars: int = 3_000) -> Path:
    path = folder / name
    path.write_text(prose(chars, seed=len(name), fact="The new badge office opens on the third floor."),
                    encoding="utf-8")
    return path


def _fail_np_save(monkeypatch):
    monkeypatch.setattr(np, "save", lambda *a, **k: (_ for _ in ()).throw(ENOSPC))


def _fail_faiss_write(monkeypatch):
    import faiss

    def write_index(index, path):   # how faiss reports a short write
        raise RuntimeError(f"Error in faiss::FileIOWriter::operator() fwrite failed writing {path}")
    monkeypatch.setattr(faiss, "write_index", write_index)


def _fail_fsync(monkeypatch):
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(ENOSPC))


def _fail_second_rename(monkeypatch):
    """The old index is already moved aside when putting the new one in place fails."""
    real, calls = os.rename, []

    def rename(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(src, dst)
    monkeypatch.setattr(os, "rename", rename)


@pytest.mark.parametrize("fault", [_fail_np_save, _fail_faiss_write, _fail_fsync, _fail_second_rename],
                         ids=["vectors", "faiss", "fsync", "swap"])
def test_a_failed_save_is_a_clear_error_and_the_previous_index_stays(fault, index_copy, settings, encoder,
                                                                     monkeypatch, tmp_path):
    before = _fingerprint(index_copy)
    memo = _memo(tmp_path)
    indexer = Indexer(settings.replace(index_dir=index_copy), encoder)
    with monkeypatch.context() as patch:
        fault(patch)
        with pytest.raises(IndexUnusable) as failure:
            indexer.index([memo])
    message = str(failure.value)
    assert f"cannot save the index in {index_copy}" in message and "--index DIR" in message
    assert "previous index is unchanged" in message
    if fault in (_fail_np_save, _fail_fsync):
        assert f"free some space on the disk that holds {index_copy.parent}" in message
    assert _fingerprint(index_copy) == before and leftovers(index_copy) == []
    whole_index(index_copy, settings.model_name)
    assert indexer.index([memo]).added == 1   # once the disk has room, the same command works


def test_a_full_disk_during_an_upload_is_reported_and_caught_up_later(index_copy, settings, encoder, monkeypatch,
                                                                      tmp_path):
    s = settings.replace(index_dir=index_copy)
    bot = Assistant(s, store.load(index_copy, s.model_name), encoder)
    uploads = webui.uploads_dir(s)
    memo = _memo(tmp_path, "badge office.txt")
    with monkeypatch.context() as patch:
        _fail_np_save(patch)
        with pytest.raises(webui.LibraryError, match="not indexed — cannot save the index .*free some space"):
            webui.add_uploads(bot, [memo], uploads, s.max_upload_bytes)
    assert "third floor" not in bot.ask("Where does the new badge office open?").text   # the old index answers
    assert (uploads / "badge office.txt").read_bytes() == memo.read_bytes()   # the upload is kept whole
    assert "indexed 1 upload" in webui.catch_up(bot, uploads)   # as at the next start, with room on the disk
    assert "third floor" in bot.ask("Where does the new badge office open?").text


def _unwritable(folder: Path):
    """`folder` read-only for the child processes of the test (see harness.without_root_override)."""
    folder.chmod(0o555)
    return without_root_override


def test_an_unwritable_index_folder_is_a_clear_error_and_the_index_stays(tmp_path, corpus_index_dir, settings):
    shared = tmp_path / "shared"
    shared.mkdir()
    index = shared / "index"
    shutil.copytree(corpus_index_dir, index)
    index.with_name("index.lock").touch()   # as the run that built the index left it
    memo = _memo(tmp_path)
    before = _fingerprint(index)
    try:
        proc = cli(index, "index", str(memo), preexec_fn=_unwritable(shared))
        out, err = proc.communicate(timeout=300)
    finally:
        shared.chmod(0o755)
    assert proc.returncode == 2 and "Traceback" not in err, err
    assert f"cannot save the index in {index}" in err and f"make {shared} writable" in err, err
    assert "previous index is unchanged" in err
    assert _fingerprint(index) == before and leftovers(index) == []
    whole_index(index, settings.model_name)


def test_an_index_folder_that_cannot_hold_its_lock_is_a_clear_error(tmp_path):
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    memo = _memo(tmp_path)
    try:
        proc = cli(readonly / "index", "index", str(memo), preexec_fn=_unwritable(readonly))
        _, no_lock = proc.communicate(timeout=300)
    finally:
        readonly.chmod(0o755)
    proc_file = cli(blocked / "index", "index", str(memo))
    _, in_the_way = proc_file.communicate(timeout=300)
    assert proc.returncode == proc_file.returncode == 2
    assert f"cannot use the index folder {readonly / 'index'}: cannot create the lock file" in no_lock, no_lock
    assert "Permission denied" in no_lock and f"make {readonly} a writable folder" in no_lock
    assert f"cannot use the index folder {blocked / 'index'}: a file stands in its path" in in_the_way, in_the_way
    assert "Traceback" not in no_lock + in_the_way
    assert not (readonly / "index").exists() and blocked.read_text() == "not a folder"


def test_two_indexers_at_once_are_serialised_and_lose_nothing(tmp_path, corpus_index_dir, settings):
    index = tmp_path / "index"
    shutil.copytree(corpus_index_dir, index)
    big = _memo(tmp_path, "handbook.txt", chars=100_000)
    small = _memo(tmp_path, "note.txt")
    first = cli(index, "index", str(big))
    lock = index.with_name("index.lock")
    began = time.monotonic()
    while not holds_lock(first.pid, lock):
        assert first.poll() is None, f"the first indexer ended without holding {lock}: {first.communicate()}"
        assert time.monotonic() - began < 300, "the first indexer never took the lock"
        time.sleep(0.01)
    second = cli(index, "index", str(small))   # while the first one is indexing
    out2, err2 = second.communicate(timeout=600)
    out1, err1 = first.communicate(timeout=600)
    assert first.returncode == second.returncode == 0, err1[-2000:] + err2[-2000:]
    assert f"waiting for another process that is indexing into {index}" in out2
    sources = {info.source for info in whole_index(index, settings.model_name).infos}
    assert {str(big), str(small)} <= sources, "one indexer's work was lost"
    assert "the index holds 3 documents" in out2   # the second started from the first one's saved index
    record("two `verbatim index` at once", "serialised by the lock: the second waited, said so, and both "
           "documents are in the index")


def test_an_indexer_that_waits_too_long_is_refused_with_a_message(tmp_path, index_copy, settings, encoder,
                                                                   monkeypatch, capsys):
    lock = index_copy.with_name(f"{index_copy.name}.lock")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from filelock import FileLock; held = FileLock(sys.argv[1]); held.acquire(); "
         "print('held', flush=True); time.sleep(120)", str(lock)],
        env=child_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr("embeddings.indexer.LOCK_WAIT_SECONDS", 0.5)
        with pytest.raises(IndexBusy, match=f"{index_copy} is being indexed by another process; try again"):
            Indexer(settings.replace(index_dir=index_copy), encoder).index([_memo(tmp_path)])
    finally:
        holder.kill()
        holder.wait()
    assert "waiting for another process" in capsys.readouterr().out


def test_a_full_disk_during_a_removal_keeps_the_document_and_its_file(index_copy, settings, encoder, monkeypatch,
                                                                      tmp_path):
    s = settings.replace(index_dir=index_copy)
    bot = Assistant(s, store.load(index_copy, s.model_name), encoder)
    uploads = webui.uploads_dir(s)
    webui.add_uploads(bot, [_memo(tmp_path, "badge office.txt")], uploads, s.max_upload_bytes)
    info = next(i for i in bot.documents() if i.source.endswith("badge office.txt"))
    with monkeypatch.context() as patch:
        _fail_np_save(patch)
        with pytest.raises(webui.LibraryError, match="not removed — cannot save the index"):
            webui.remove_document(bot, info.doc_id, uploads)
    assert info in bot.documents() and sorted(p.name for p in uploads.iterdir()) == ["badge office.txt"]


def test_what_a_crash_leaves_in_the_upload_folder_is_finished_at_the_next_start(index_copy, settings, encoder,
                                                                                 tmp_path):
    s = settings.replace(index_dir=index_copy)
    bot = Assistant(s, store.load(index_copy, s.model_name), encoder)
    uploads = webui.uploads_dir(s)
    webui.add_uploads(bot, [_memo(tmp_path, "leaving.txt")], uploads, s.max_upload_bytes)
    # A crash during each step of the library's work: a copy half written, a copy not yet indexed, and a
    # removal that had hidden the file but not yet taken the document out of the index.
    (uploads / ".half.txt.part").write_text("The badge office", encoding="utf-8")
    _memo(uploads, "kept.txt")
    (uploads / "leaving.txt").rename(uploads / ".leaving.txt.removing")

    done = webui.catch_up(bot, uploads)

    assert "finished removing 1 document" in done and "indexed 1 upload" in done, done
    assert sorted(p.name for p in uploads.iterdir()) == ["kept.txt"]
    sources = {Path(i.source).name for i in bot.documents()}
    assert "kept.txt" in sources and "leaving.txt" not in sources
    assert webui.catch_up(bot, uploads) == ""   # nothing left to do
    whole_index(index_copy, s.model_name)
