"""The real app and CLI as separate processes, driven the way a browser tab or a script drives them,
and the checks run on what they leave behind.

`App` runs `python app.py` over a work folder; `Page` speaks the page's HTTP (sign-in, file upload,
queued UI events) without a browser, so a test can upload while many API clients ask. Loopback only.
`whole_index` checks an index folder after a crash; `holds_lock` and `without_root_override` are Linux
specific (/proc/locks, prctl), as is the CI machine.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from eval.bench_startup import child_env, free_port, stop, wait_until_answering

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 300   # importing gradio and torch, loading the model (and the index) on a busy 2-core machine
EVENT_SECONDS = 300   # one UI event, e.g. indexing an upload while the server is under load
# Looked up now, before any fork: a preexec_fn must not load libraries.
_PRCTL = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)


def cli(index: Path, *args: str, **popen: Any) -> subprocess.Popen:
    """`verbatim --index INDEX ARGS...` as a child process (stdout and stderr piped, text)."""
    return subprocess.Popen([sys.executable, "-m", "assistant.cli", "--index", str(index), *args], cwd=ROOT,
                            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


class App:
    """`python app.py` on a free loopback port over the index folder work/index; every start logs to its
    own work/app-N.log. `kill` is SIGKILL: no clean-up runs, as in a crash or an OOM kill."""

    def __init__(self, work: Path, **env: str) -> None:
        self.work = work
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.url = ""

    @property
    def index(self) -> Path:
        return self.work / "index"

    @property
    def uploads(self) -> Path:
        return self.work / "index-uploads"

    @property
    def log_path(self) -> Path:
        return self.work / f"app-{self.starts}.log"

    def start(self) -> App:
        self.starts += 1
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/"
        env = child_env(GRADIO_SERVER_PORT=str(port), VERBATIM_INDEX=str(self.index), **self.env)
        with self.log_path.open("w") as log:
            self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log,
                                         stderr=subprocess.STDOUT)
        try:
            wait_until_answering(self.proc, self.url, self.log_path, time.perf_counter(), START_SECONDS, 0.5)
        except RuntimeError:
            self.kill()
            raise
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop(self.proc)

    def __enter__(self) -> App:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class EventFailed(Exception):
    """A UI event that ended in an error on the server; the message is the server's."""


class Page:
    """What one open chat page sends: its sign-in cookie, uploads, and UI events through the queue."""

    def __init__(self, url: str, auth: tuple[str, str] | None = None) -> None:
        self.http = httpx.Client(base_url=url, timeout=EVENT_SECONDS)
        if auth is not None:
            r = self.http.post("login", data={"username": auth[0], "password": auth[1]})
            r.raise_for_status()
        self.session = uuid.uuid4().hex
        self.config = self.http.get("config").raise_for_status().json()

    def close(self) -> None:
        self.http.close()

    def event(self, elem_id: str, trigger: str) -> tuple[int, int]:
        """(fn_index, component id) of the handler of `trigger` on the component with `elem_id`."""
        component = next(c["id"] for c in self.config["components"] if c.get("props", {}).get("elem_id") == elem_id)
        for fn_index, dep in enumerate(self.config["dependencies"]):
            if [component, trigger] in [list(t) for t in dep["targets"]]:
                return dep.get("id", fn_index), component
        raise LookupError(f"no {trigger!r} handler on #{elem_id}")

    def run(self, elem_id: str, trigger: str, data: list[Any]) -> list[Any]:
        """Fire the event as the page does (queue/join, then read the session's event stream); its outputs."""
        fn_index, component = self.event(elem_id, trigger)
        body = {"data": data, "fn_index": fn_index, "trigger_id": component, "session_hash": self.session,
                "event_data": None}
        event_id = self.http.post("gradio_api/queue/join", json=body).raise_for_status().json()["event_id"]
        with self.http.stream("GET", "gradio_api/queue/data", params={"session_hash": self.session}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("event_id") != event_id or msg.get("msg") != "process_completed":
                    continue
                if not msg.get("success"):
                    raise EventFailed(json.dumps(msg.get("output"))[:2000])
                return msg["output"]["data"]
        raise EventFailed(f"the event stream closed before event {event_id} completed")

    def send_files(self, files: list[tuple[str, bytes]]) -> httpx.Response:
        """POST the files to Gradio's upload route as the page's file picker does (name, bytes)."""
        return self.http.post("gradio_api/upload", files=[("files", (name, data)) for name, data in files])

    def upload(self, files: list[tuple[str, bytes]]) -> str:
        """Upload files into the library (as dropping them on the upload area does); the status HTML."""
        paths = self.send_files(files).raise_for_status().json()
        data = [{"path": p, "orig_name": name, "size": len(content), "meta": {"_type": "gradio.FileData"}}
                for p, (name, content) in zip(paths, files)]
        return self.run("vb-upload", "upload", [data])[0]


def holds_lock(pid: int, lock_file: Path) -> bool:
    """True when process `pid` holds a flock on `lock_file` (read from /proc/locks; Linux)."""
    try:
        inode = lock_file.stat().st_ino
    except FileNotFoundError:
        return False
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields or len(fields) < 6:   # a waiter, not a holder
            continue
        if fields[1] == "FLOCK" and fields[4] == str(pid) and fields[5].rsplit(":", 1)[-1] == str(inode):
            return True
    return False


def leftovers(index: Path) -> list[str]:
    """Temporary or set-aside index folders beside `index` (what a killed save leaves)."""
    return sorted(p.name for p in index.parent.iterdir()
                  if p.name.startswith((f".{index.name}.tmp-", f".{index.name}.old")))


def whole_index(index: Path, model: str):
    """Load the index in `index` and check it is whole: every array, vector row, FAISS row and BM25 row
    agrees with the passages and sentences, and every span lies in its document. Returns the Index."""
    from embeddings import store

    manifest = store.read_manifest(index)
    assert manifest is not None, f"no index in {index} any more"
    loaded = store.load(index, model)
    n, m = loaded.size, len(loaded.s_start)
    assert manifest["passages"] == n and manifest["sentences"] == m
    assert [d.doc_id for d in loaded.documents] == [i.doc_id for i in loaded.infos]
    assert len({d.doc_id for d in loaded.documents}) == len(loaded.documents)
    assert len(loaded.p_doc) == len(loaded.p_end) == len(loaded.p_section) == n
    assert len(loaded.s_doc) == len(loaded.s_end) == len(loaded.s_host) == m
    assert loaded.passage_vecs.shape == (n, loaded.dim) and loaded.sentence_vecs.shape == (m, loaded.dim)
    assert loaded.dense.ntotal == n and loaded.bm25_passages.size == n and loaded.bm25_sentences.size == m
    for rows in (loaded.p_doc.tolist(), loaded.s_doc.tolist()):   # a document's rows are contiguous, in order
        assert rows == sorted(rows)
    for i, info in enumerate(loaded.infos):
        assert int((loaded.p_doc == i).sum()) == info.passages and info.passages > 0
    for doc_row, ends in ((loaded.p_doc, loaded.p_end), (loaded.s_doc, loaded.s_end)):
        lengths = [len(loaded.documents[d].text) for d in doc_row.tolist()]
        assert all(e <= size for e, size in zip(ends.tolist(), lengths))
    return loaded


def without_root_override() -> None:
    """Run as `preexec_fn`: as root, drop the capabilities that let root write where file modes forbid it
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER), so a read-only folder is read-only to the child
    as it would be to a member of staff. Does nothing for another user."""
    if os.geteuid() == 0:
        for capability in (1, 2, 3):
            if _PRCTL is None or _PRCTL(24, capability, 0, 0, 0) != 0:   # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "cannot drop root's file-permission override (prctl)")
