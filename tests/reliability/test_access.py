"""Access: with sign-in configured, nothing is served without a session, and no file of the library is
served by its path, with a session or without.

Plain HTTP against the real server (httpx), as an outsider on the network would try it. The server's
Gradio upload folder is the folder that holds the index (see conftest.signed_in_app), so a path that
Gradio would otherwise serve leads straight to the index and the uploaded documents.
"""
from __future__ import annotations

import httpx
import pytest

from .conftest import ALICE, MAX_UPLOAD_BYTES, record
from .harness import EventFailed, Page

PAYROLL = b"Payroll runs on the 25th of each month, or the working day before it.\n"


@pytest.fixture(scope="module")
def library(signed_in_app):
    """A document uploaded by signed-in staff, and the path Gradio first received it at."""
    page = Page(signed_in_app.url, auth=ALICE)
    (received,) = page.send_files([("payroll_dates.txt", PAYROLL)]).raise_for_status().json()
    data = [{"path": received, "orig_name": "payroll_dates.txt", "size": len(PAYROLL),
             "meta": {"_type": "gradio.FileData"}}]
    status = page.run("vb-upload", "upload", [data])[0]
    assert "1 added" in status, status
    page.close()
    return {"uploaded": signed_in_app.uploads / "payroll_dates.txt", "received": received}


def _guesses(app, library) -> list[str]:
    """File paths an outsider might try: the uploaded copy, Gradio's copy, the index, feedback, traversal."""
    uploaded, index = library["uploaded"], app.index
    return [str(uploaded), library["received"], str(index / "documents.jsonl"), str(index / "manifest.json"),
            str(index.with_name("index-feedback.jsonl")), f"{app.work}/../{app.work.name}/index-uploads/{uploaded.name}",
            f"{app.work}/%2e%2e/{app.work.name}/index/documents.jsonl", "index-uploads/payroll_dates.txt",
            "%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/etc/passwd"]


def test_nothing_is_served_without_a_session(signed_in_app, library):
    anonymous = httpx.Client(base_url=signed_in_app.url, timeout=30)
    page = anonymous.get("")
    assert page.status_code == 200 and '"auth_required":true' in page.text.replace(" ", "")
    assert "vb-question" not in page.text and "Payroll" not in page.text   # the sign-in page, not the app
    ask = {"data": ["When does payroll run?", []]}
    attempts = [
        ("GET", "config", None), ("GET", "gradio_api/info", None), ("POST", "gradio_api/call/ask", ask),
        ("POST", "gradio_api/queue/join", {**ask, "fn_index": 0, "session_hash": "x"}),
        ("GET", "gradio_api/queue/data?session_hash=x", None),
        ("POST", "gradio_api/upload", None),
        *[("GET", f"gradio_api/file={path}", None) for path in _guesses(signed_in_app, library)],
        *[("GET", f"gradio_api/file/{path}", None) for path in _guesses(signed_in_app, library)[:3]],
    ]
    for method, path, body in attempts:
        response = anonymous.request(method, path, json=body)
        assert response.status_code in (401, 403, 404), (method, path, response.status_code)
        assert b"Payroll" not in response.content and b"SoFi" not in response.content, path
    wrong = anonymous.post("login", data={"username": "alice", "password": "wonder"})
    assert wrong.status_code in (400, 401) and anonymous.get("config").status_code == 401
    record("access without a session", f"{len(attempts)} requests (page config, API, queue, upload, "
           f"{len(_guesses(signed_in_app, library))} file paths) all refused")


def test_signed_in_staff_read_documents_through_the_app_only(signed_in_app, library):
    from gradio_client import Client

    staff = Page(signed_in_app.url, auth=ALICE).http
    guesses = _guesses(signed_in_app, library)
    for path in guesses:
        response = staff.get(f"gradio_api/file={path}")
        assert response.status_code in (403, 404), (path, response.status_code)
        assert b"Payroll" not in response.content
    answer = Client(signed_in_app.url, auth=ALICE, verbose=False).predict("When does payroll run?", [],
                                                                           api_name="/ask")
    assert "25th of each month" in answer["answer"] and answer["quotes"][0]["source"] == str(library["uploaded"])
    record("file paths guessed by signed-in staff", f"{len(guesses)} refused; the document is read through the app")


def test_uploads_are_limited_by_size_and_type_and_kept_in_the_upload_folder(signed_in_app):
    page = Page(signed_in_app.url, auth=ALICE)
    too_big = page.send_files([("big.txt", b"x" * (MAX_UPLOAD_BYTES + 1))])
    assert too_big.status_code == 413
    for name, data in [("tool.exe", b"MZ\x90\x00"), ("page.svg", b"<svg onload=alert(1)></svg>"),
                       ("notes.txt.exe", b"MZ")]:
        with pytest.raises(EventFailed, match="Invalid file type"):   # Gradio checks file_types on the server
            page.upload([(name, data)])
        assert not (signed_in_app.uploads / name).exists()
    outside = {p for p in signed_in_app.work.parent.rglob("*escape*")}
    hostile = ["../../escape.txt", "/etc/cron.d/escape.txt", "..\\..\\escape-win.txt", "<script>escape.txt",
               " .escape-dots.md", "escape\u202etxt.md"]
    for name in hostile:
        status = page.upload([(name, b"The escape drill is held on Mondays.\n")])
        assert "vb-ok" in status or "vb-error" in status, status
    kept = sorted(p.name for p in signed_in_app.uploads.iterdir())
    assert not {p for p in signed_in_app.work.parent.rglob("*escape*")} - outside - set(signed_in_app.uploads.iterdir())
    assert not any(name.startswith(".") or "/" in name or "\\" in name for name in kept)
    assert not any(p.exists() for p in [signed_in_app.work.parent / "escape.txt", signed_in_app.work / "escape.txt"])
    record("hostile uploads", f"over-size refused (413), .exe and .svg refused, {len(hostile)} escaping names kept "
           "inside the upload folder")
