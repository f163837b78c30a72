"""Cold starts, each in a fresh Python process: the command line, the web chat, and the limit they are held to.

The limit of `verbatim ask` is what any sentence-transformers program pays before its first answer:
import sentence_transformers, load the model, encode one question. The web chat may take that bound plus
Gradio's own start (import gradio, serve an empty page).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from eval.bench_stats import rss_peak_bytes

ROOT = Path(__file__).resolve().parent.parent
READY_SECONDS = 300   # a web chat not answering by then is reported as failed

LIMIT_CODE = """
from sentence_transformers import SentenceTransformer
SentenceTransformer({path!r}, device="cpu").encode([{question!r}])
"""
TORCH_CHECK_CODE = """
import sys
from assistant.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
print("TORCH-IMPORTED" if "torch" in sys.modules else "NO-TORCH")
"""
GRADIO_CODE = """
import gradio as gr
with gr.Blocks() as demo:
    gr.Markdown("ready")
demo.queue().launch(server_name="127.0.0.1", server_port={port})
"""


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: offline, no sign-in, bind address or index folder inherited, the
    project importable, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VERBATIM_USERS", "VERBATIM_USERS_FILE", "GRADIO_SERVER_NAME", "VERBATIM_INDEX")}
    env.update(HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", PYTHONPATH=str(ROOT), **extra)
    return env


def timed_run(argv: Sequence[str], **env: str) -> tuple[float, str]:
    """Seconds a command took from spawn to exit, and what it printed; RuntimeError when it failed."""
    began = time.perf_counter()
    done = subprocess.run(list(argv), cwd=ROOT, env=child_env(**env), capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} … exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds, done.stdout


def limit_start(model_path: str, question: str) -> float:
    """import sentence_transformers + load the model + encode one question, in a fresh process."""
    return timed_run([sys.executable, "-c", LIMIT_CODE.format(path=model_path, question=question)])[0]


def ask_start(index_dir: Path, question: str) -> float:
    """`verbatim ask QUESTION` on an existing index, in a fresh process."""
    return timed_run([sys.executable, "-m", "assistant.cli", "--index", str(index_dir), "ask", question])[0]


def imports_torch(argv: Sequence[str]) -> tuple[bool, float]:
    """Whether `verbatim ARGV` imports torch, and how long the process took."""
    seconds, out = timed_run([sys.executable, "-c", TORCH_CHECK_CODE.format(argv=list(argv))])
    return "TORCH-IMPORTED" in out, seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_answering(proc: subprocess.Popen, url: str, log: Path, began: float, seconds: float, poll: float) -> None:
    """Return once `url` answers 200; RuntimeError (with the log's tail) if `proc` exits or `seconds` pass
    since `began` (a time.perf_counter() value)."""
    import httpx

    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{' '.join(map(str, proc.args))} exited {proc.returncode}: {log.read_text()[-3000:]}")
        if time.perf_counter() - began > seconds:
            raise RuntimeError(f"{' '.join(map(str, proc.args))} did not answer on {url} within {seconds} s")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(poll)


@contextmanager
def serving(argv: Sequence[str], port: int, log: Path, **env: str) -> Iterator[tuple[subprocess.Popen, float]]:
    """Start a web server process; yield it with the seconds until http://127.0.0.1:PORT/ answered 200. Stops it after."""

    url = f"http://127.0.0.1:{port}/"
    began = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(list(argv), cwd=ROOT, env=child_env(GRADIO_SERVER_PORT=str(port), **env),
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until_answering(proc, url, log, began, READY_SECONDS, 0.05)
            yield proc, time.perf_counter() - began
        finally:
            stop(proc)


def stop(proc: subprocess.Popen, grace: float = 20) -> None:
    """Terminate `proc`, and kill it if it has not exited after `grace` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()


def web_ready(index_dir: Path, work: Path) -> float:
    """Seconds from `python app.py` to its page answering, over an existing index."""
    with serving([sys.executable, "app.py"], free_port(), work / "app.log", VERBATIM_INDEX=str(index_dir)) as (_, seconds):
        return seconds


def gradio_ready(work: Path) -> float:
    """Gradio's own start: import gradio and serve a one-line page."""
    port = free_port()
    with serving([sys.executable, "-c", GRADIO_CODE.format(port=port)], port, work / "gradio.log") as (_, seconds):
        return seconds


def web_memory(index_dir: Path, questions: Sequence[str], work: Path) -> dict[str, float]:
    """Peak and final resident memory of `python app.py` serving `index_dir` after answering `questions` over its API."""
    from gradio_client import Client

    port = free_port()
    with serving([sys.executable, "app.py"], port, work / "app-memory.log", VERBATIM_INDEX=str(index_dir)) as (proc, ready):
        after_start = rss_peak_bytes(proc.pid)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        began = time.perf_counter()
        for q in questions:
            client.predict(q, [], api_name="/ask")
        per_question = (time.perf_counter() - began) / max(len(questions), 1)
        return {"ready_seconds": ready, "peak_rss_after_start_bytes": after_start,
                "peak_rss_bytes": rss_peak_bytes(proc.pid), "questions": len(questions),
                "api_seconds_per_question": per_question}
