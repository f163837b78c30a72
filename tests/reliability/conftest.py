"""Shared pieces of the reliability tests: the short and full scales, the signed-in app, and the figures
(load held, faults survived, inputs tried) printed at the end of the run for the closing note.

The default run uses the short scale (a couple of minutes in all); `-m slow` runs the full one.
"""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .harness import App

USERS = "alice:wonder land,bob:pw2"
ALICE = ("alice", "wonder land")
MAX_UPLOAD_BYTES = 1_000_000   # the signed-in app's upload limit, small enough to test cheaply

FIGURES: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class Scale:
    name: str
    clients: int          # load: concurrent API clients
    seconds: float        # load: how long they ask
    max_requests: int     # load: and at most this many requests in all
    upload_kb: int        # load: size of the document uploaded and indexed meanwhile
    cli_kills: int        # SIGKILLs of `verbatim index`
    app_kills: int        # SIGKILLs of the app while it indexes an upload
    examples: int         # hypothesis examples of the cheap properties
    model_examples: int   # hypothesis examples that index a document with the real model
    seed: int = 7


SHORT = Scale("short", clients=5, seconds=10, max_requests=2_000, upload_kb=60, cli_kills=3, app_kills=2,
              examples=60, model_examples=5)
FULL = Scale("full", clients=20, seconds=60, max_requests=20_000, upload_kb=300, cli_kills=20, app_kills=20,
             examples=1_000, model_examples=40)
SCALES = [pytest.param(SHORT, id="short"), pytest.param(FULL, id="full", marks=pytest.mark.slow)]


def record(name: str, line: str) -> None:
    """Keep a figure for the end-of-run summary (and $VERBATIM_FIGURES, a JSON file, when set)."""
    FIGURES[name] = line
    print(f"{name}: {line}")


def pytest_terminal_summary(terminalreporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for name, line in sorted(FIGURES.items()):
        terminalreporter.write_line(f"{name}: {line}")
    if os.environ.get("VERBATIM_FIGURES"):
        Path(os.environ["VERBATIM_FIGURES"]).write_text(json.dumps(FIGURES, indent=1, ensure_ascii=False) + "\n")


@pytest.fixture(scope="session")
def signed_in_app(tmp_path_factory: pytest.TempPathFactory, corpus_index_dir: Path) -> Iterator[App]:
    """`python app.py` with staff sign-in over a copy of the bundled index.

    Gradio keeps its uploads in the same work folder as the index (GRADIO_TEMP_DIR), a folder it serves
    files from: only the app's blocked paths keep the index and the uploaded documents private there.
    """
    work = tmp_path_factory.mktemp("signed-in")
    shutil.copytree(corpus_index_dir, work / "index")
    with App(work, VERBATIM_USERS=USERS, GRADIO_TEMP_DIR=str(work),
             VERBATIM_MAX_UPLOAD_BYTES=str(MAX_UPLOAD_BYTES)) as app:
        yield app
