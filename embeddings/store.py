"""The index folder: documents, passage and sentence spans, their vectors, FAISS and BM25, saved atomically.

Layout (every file plain; row i of the FAISS index is passage i):
  manifest.json          format version, model name and dimension, per-document hashes and counts
  documents.jsonl        one Document a line (text, sections, skip spans)
  passages.npz           doc (row in documents.jsonl), start, end, section (index into sections.json)
  sentences.npz          doc, start, end, host (passage row)
  sections.json          distinct section paths
  passage_vectors.npy    (n, dim) float32, L2-normalised
  sentence_vectors.npy   (m, dim) float32, L2-normalised
  dense.faiss            exact inner product, or HNSW past `ann_above` passages
  bm25_passages/, bm25_sentences/
A save writes a sibling temporary folder and renames it into place, so a crash leaves the old index whole.
"""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings.documents import Document, Passage, Section, Sentence
from embeddings.lexical import Lexical

FORMAT = "verbatim-index"
VERSION = 1
HNSW_M = 32
# Measured over 1M noisy copies of real SQuAD vectors (eval.bench --scale): recall@10 against exact search
# 0.83 at 128, 0.93 at 1024, 0.95 at 2048, 0.98 at 4096 (7 ms a query on one thread; exact search: 65 ms).
HNSW_EF_SEARCH = 4096


class IndexUnusable(Exception):
    """An index folder that cannot be used as it is; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class DocInfo:
    doc_id: str
    title: str
    source: str
    passages: int
    chars: int
    indexed_at: str
    content_hash: str = ""


@dataclass
class Index:
    """A loaded index. Passages and sentences are arrays of spans; `passage(i)` makes the dataclass."""

    model: str
    dim: int
    documents: list[Document] = field(default_factory=list)
    infos: list[DocInfo] = field(default_factory=list)
    p_doc: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    p_start: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    p_end: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    p_section: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    sections: list[str] = field(default_factory=list)
    s_doc: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    s_start: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    s_end: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    s_host: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    passage_vecs: np.ndarray | None = None    # (n, dim) float32
    sentence_vecs: np.ndarray | None = None   # (m, dim) float32
    dense: object | None = None               # faiss index over passage_vecs
    bm25_passages: Lexical | None = None
    bm25_sentences: Lexical | None = None
    by_id: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {d.doc_id: i for i, d in enumerate(self.documents)}

    @property
    def size(self) -> int:
        return int(len(self.p_start))

    def document(self, doc_id: str) -> Document:
        if doc_id not in self.by_id:
            raise KeyError(f"no document {doc_id!r} in the index; `verbatim docs` lists the ids")
        return self.documents[self.by_id[doc_id]]

    def passages_of(self, doc_rows: Sequence[int]) -> np.ndarray:
        """The passage rows of the documents at `doc_rows`, in index order."""
        return np.flatnonzero(np.isin(self.p_doc, list(doc_rows))).astype(np.int64)

    def passage(self, i: int) -> Passage:
        doc = self.documents[int(self.p_doc[i])]
        start, end = int(self.p_start[i]), int(self.p_end[i])
        return Passage(doc.doc_id, start, end, doc.text[start:end], self.sections[int(self.p_section[i])])

    def sentence(self, i: int) -> Sentence:
        doc = self.documents[int(self.s_doc[i])]
        start, end = int(self.s_start[i]), int(self.s_end[i])
        return Sentence(doc.doc_id, start, end, doc.text[start:end])

    def passage_texts(self) -> list[str]:
        return [self.documents[d].text[s:e] for d, s, e in zip(self.p_doc.tolist(), self.p_start.tolist(), self.p_end.tolist())]

    def sentence_texts(self) -> list[str]:
        return [self.documents[d].text[s:e] for d, s, e in zip(self.s_doc.tolist(), self.s_start.tolist(), self.s_end.tolist())]


def build_dense(vectors: np.ndarray, ann_above: int):
    """Exact inner-product search, or HNSW once there are more than `ann_above` passages."""
    import faiss

    dim = vectors.shape[1]
    if len(vectors) > ann_above:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _doc_to_json(doc: Document) -> str:
    return json.dumps({
        "doc_id": doc.doc_id, "source": doc.source, "title": doc.title, "content_hash": doc.content_hash,
        "sections": [[s.heading, s.start, s.end, s.level] for s in doc.sections],
        "skip": [list(s) for s in doc.skip], **({"pages": list(doc.pages)} if doc.pages else {}), "text": doc.text,
    }, ensure_ascii=False)


def _doc_from_json(line: str) -> Document:
    raw = json.loads(line)
    return Document(
        raw["doc_id"], raw["source"], raw["title"], raw["text"],
        tuple(Section(h, s, e, lv) for h, s, e, lv in raw["sections"]),
        tuple((s, e) for s, e in raw["skip"]), raw["content_hash"],
        tuple(raw.get("pages", ())),   # absent in indexes saved before page numbers, and for unpaged files
    )


def read_manifest(folder: Path) -> dict | None:
    """The manifest of the index in `folder` (recovering an interrupted swap first), or None if there is none."""
    folder = Path(folder)
    _recover(folder)
    path = folder / "manifest.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexUnusable(f"the index manifest {path} is unreadable ({exc}); delete {folder} and run `verbatim index`") from exc


def no_index(folder: Path) -> str:
    """What to tell a user who asked for the index in `folder` where there is none: where, and how to build one."""
    return (f"no index at {Path(folder).resolve()}; build one with `verbatim index PATH` (files or folders), "
            "or give the index folder with --index DIR or VERBATIM_INDEX")


def check_manifest(manifest: dict, model: str, folder: Path) -> None:
    """Refuse an index of another format version or model, saying how to rebuild it."""
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise IndexUnusable(
            f"the index in {folder} has format {manifest.get('format')} v{manifest.get('version')}, this version reads "
            f"{FORMAT} v{VERSION}; rebuild it with `verbatim index --rebuild` (re-reads the indexed files)"
        )
    if manifest.get("model") != model:
        raise IndexUnusable(
            f"the index in {folder} was built with model {manifest.get('model')!r}, but the model setting is {model!r}; "
            f"rebuild it with `verbatim index --rebuild`, or set VERBATIM_MODEL={manifest.get('model')!r}"
        )


LOAD_TRIES = 3


def load(folder: Path, model: str) -> Index:
    """Load the index in `folder`; an empty Index when the folder holds none. Refuses another model or format.

    Reads without the writers' lock: when a save swaps the folder in mid-read (its inode changes), it reads again.
    """
    folder = Path(folder)
    for attempt in range(LOAD_TRIES):
        before = _inode(folder)
        manifest = read_manifest(folder)
        if manifest is None:
            return Index(model=model, dim=0)
        check_manifest(manifest, model, folder)
        try:
            index = _read(folder, model, manifest)
        except (OSError, KeyError, ValueError, RuntimeError) as exc:
            if _inode(folder) != before and attempt + 1 < LOAD_TRIES:
                continue
            raise IndexUnusable(f"the index in {folder} is damaged ({exc}); rebuild it with `verbatim index --rebuild`") from exc
        if _inode(folder) == before:
            return index
    raise IndexUnusable(f"the index in {folder} kept changing while it was read; try again when indexing has finished")


def stamp(folder: Path) -> tuple[int, int] | None:
    """What changes whenever a save replaces the index in `folder`: (folder inode, manifest mtime); None if none."""
    try:
        return os.stat(folder).st_ino, os.stat(Path(folder) / "manifest.json").st_mtime_ns
    except OSError:
        return None


def _inode(folder: Path) -> int | None:
    try:
        return os.stat(folder).st_ino
    except OSError:
        return None


def _read(folder: Path, model: str, manifest: dict) -> Index:
    import faiss

    with open(folder / "documents.jsonl", encoding="utf-8") as fh:
        documents = [_doc_from_json(line) for line in fh if line.strip()]
    p = np.load(folder / "passages.npz")
    s = np.load(folder / "sentences.npz")
    index = Index(
        model=model, dim=int(manifest["dim"]), documents=documents,
        infos=[DocInfo(**info) for info in manifest["documents"]],
        p_doc=p["doc"], p_start=p["start"], p_end=p["end"], p_section=p["section"],
        sections=json.loads((folder / "sections.json").read_text(encoding="utf-8")),
        s_doc=s["doc"], s_start=s["start"], s_end=s["end"], s_host=s["host"],
        # Memory-mapped: the vectors stay on disk until read, off the resident set of a large index.
        passage_vecs=np.load(folder / "passage_vectors.npy", mmap_mode="r"),
        sentence_vecs=np.load(folder / "sentence_vectors.npy", mmap_mode="r"),
        dense=faiss.read_index(str(folder / "dense.faiss")),
    )
    index.bm25_passages = Lexical.load(folder / "bm25_passages", index.size)
    index.bm25_sentences = Lexical.load(folder / "bm25_sentences", len(index.s_start))
    return index


def save(index: Index, folder: Path) -> None:
    """Write `index` to `folder` atomically: a temporary sibling folder, fsynced, then renamed into place.

    Temporary folders that killed saves left behind are removed first. A failed write (full disk,
    unwritable or missing folder) removes this save's temporary folder, keeps the previous index as it
    was, and raises IndexUnusable naming the folder and the fix.
    """
    import errno

    folder = Path(folder)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    step = f"create {folder.parent}"
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        # The Indexer saves under its lock, one process at a time: any other temporary folder is a leftover.
        for stale in folder.parent.iterdir():
            if stale.name.startswith(f".{folder.name}.tmp-"):
                shutil.rmtree(stale, ignore_errors=True)
        step = f"write {tmp}"
        tmp.mkdir()
        with open(tmp / "documents.jsonl", "w", encoding="utf-8") as fh:
            for doc in index.documents:
                fh.write(_doc_to_json(doc) + "\n")
        np.savez(tmp / "passages.npz", doc=index.p_doc, start=index.p_start, end=index.p_end, section=index.p_section)
        np.savez(tmp / "sentences.npz", doc=index.s_doc, start=index.s_start, end=index.s_end, host=index.s_host)
        (tmp / "sections.json").write_text(json.dumps(index.sections, ensure_ascii=False), encoding="utf-8")
        np.save(tmp / "passage_vectors.npy", index.passage_vecs)
        np.save(tmp / "sentence_vectors.npy", index.sentence_vecs)
        import faiss

        faiss.write_index(index.dense, str(tmp / "dense.faiss"))
        for name, lexical in (("bm25_passages", index.bm25_passages), ("bm25_sentences", index.bm25_sentences)):
            (tmp / name).mkdir()
            if lexical is not None:
                lexical.save(tmp / name)
        manifest = {
            "format": FORMAT, "version": VERSION, "model": index.model, "dim": index.dim,
            "passages": index.size, "sentences": int(len(index.s_start)),
            "dense": type(index.dense).__name__,
            "documents": [_info_dict(info) for info in index.infos],
        }
        # The manifest goes last: a folder without one is never taken for an index.
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        step = f"flush {tmp} to disk"
        _fsync_tree(tmp)
        step = f"move the new index into {folder}"
        _swap(tmp, folder)
    except (OSError, RuntimeError) as exc:   # RuntimeError: how faiss reports a failed write
        shutil.rmtree(tmp, ignore_errors=True)
        _recover(folder)   # a failure between the two renames of _swap: put the previous index back
        code = getattr(exc, "errno", None)
        if code in (errno.ENOSPC, errno.EDQUOT):
            fix = f"free some space on the disk that holds {folder.parent}"
        elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
            fix = f"make {folder.parent} writable for this user"
        elif code in (errno.ENOTDIR, errno.EEXIST):
            fix = f"a file stands in the path {folder.parent}: move it away"
        else:
            fix = f"check that {folder.parent} is writable and has free space"
        raise IndexUnusable(
            f"cannot save the index in {folder}: could not {step} ({getattr(exc, 'strerror', None) or exc}); "
            f"{fix}, or choose another folder with --index DIR or VERBATIM_INDEX. The previous index is unchanged."
        ) from exc


def _info_dict(info: DocInfo) -> dict:
    return {name: getattr(info, name) for name in DocInfo.__slots__}


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(folder)


def _old(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.old")


def _swap(tmp: Path, folder: Path) -> None:
    """Put `tmp` in place of `folder`. Between the two renames only `.old` exists; `_recover` handles that."""
    old = _old(folder)
    for _attempt in range(3):
        if old.exists():
            shutil.rmtree(old)
        if folder.exists():
            os.rename(folder, old)
        try:
            os.rename(tmp, folder)
            break
        except OSError:
            # A reader's _recover may have put the old index back between our two renames: move it aside again.
            if not folder.exists():
                raise
    else:
        raise OSError(f"another process kept putting an index back into {folder} while this one was saving")
    _fsync_dir(folder.parent)
    shutil.rmtree(old, ignore_errors=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _recover(folder: Path) -> None:
    """After a crash between the two renames of a save, bring the previous index back."""
    old = _old(folder)
    if not folder.exists() and (old / "manifest.json").is_file():
        try:
            os.rename(old, folder)
        except OSError:
            if not folder.exists():   # else a save finished its swap meanwhile: its index is the one to use
                raise
