"""Files and folders in, the saved index updated: new and changed files embedded, unchanged ones skipped.

Only one indexer writes an index folder at a time (a lock file beside it); readers are never blocked,
since a save swaps in a complete folder. Bad files are skipped and reported, never fatal.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from embeddings import store
from embeddings.chunking import chunk_document
from embeddings.documents import Document, content_hash, doc_id_for
from embeddings.encoder import Encoder, SentenceEncoder
from embeddings.loaders import LoadError, load, supported
from embeddings.settings import Settings
from embeddings.store import DocInfo, Index

LOCK_WAIT_SECONDS = 600
PREFIX_CHARS = 200   # section path put before a passage when embedding it: context, not quoted


class IndexBusy(Exception):
    """Another process holds the index lock for longer than we wait."""


@dataclass(frozen=True, slots=True)
class Skipped:
    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class Summary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: tuple[Skipped, ...] = ()
    documents: int = 0
    passages: int = 0
    embedded: int = 0       # texts sent through the encoder
    seconds: float = 0.0

    def line(self) -> str:
        head = (f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                f"{len(self.skipped)} skipped")
        if self.removed:
            head += f", {self.removed} removed"
        out = (f"{head}; the index holds {counted(self.documents, 'document')}, {counted(self.passages, 'passage')} "
               f"({self.seconds:.1f} s)")
        for item in self.skipped:
            out += f"\n  skipped {item.source}: {item.reason}"
        return out


def counted(n: int, noun: str) -> str:
    """'1 passage', '1,204 passages'."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


@dataclass
class _Part:
    """One document's rows, ready to be put together into an Index."""

    doc: Document
    info: DocInfo
    p_start: np.ndarray
    p_end: np.ndarray
    p_section: list[str]
    s_start: np.ndarray
    s_end: np.ndarray
    s_host: np.ndarray        # passage row within this document
    p_vecs: np.ndarray
    s_vecs: np.ndarray


def default_corpus() -> Path:
    """The bundled corpus: ./corpus when it exists (as in a checkout), else the one beside the package."""
    here = Path("corpus")
    return here if here.is_dir() else Path(__file__).resolve().parent.parent / "corpus"


def expand(paths: Iterable[str | Path]) -> tuple[list[tuple[Path, str]], list[Skipped]]:
    """(file, source) pairs under `paths` (folders recursively, hidden entries left out) and unsupported files.

    Raises FileNotFoundError naming a path that does not exist, before anything is read.
    """
    paths = [Path(p) for p in paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
    files: list[tuple[Path, str]] = []
    skipped: list[Skipped] = []
    for root in paths:
        found = [root] if root.is_file() else sorted(
            p for p in root.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
        )
        for path in found:
            if supported(path):
                files.append((path, str(path)))
            else:
                skipped.append(Skipped(str(path), f"unsupported file type {path.suffix or '(none)'!r}"))
    return files, skipped


def embedded_text(text: str, section: str, title: str) -> str:
    """What the encoder reads for a passage: its section (or the document's title) as a short first line."""
    return (section or title)[:PREFIX_CHARS] + "\n" + text


class Indexer:
    """Keeps the index in `settings.index_dir` up to date with files; the encoder loads on first need."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None) -> None:
        self.settings = settings
        self._encoder = encoder

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            s = self.settings
            self._encoder = SentenceEncoder(s.model_path, s.model_name, s.batch_size)
        return self._encoder

    @property
    def root(self) -> Path:
        """The folder that holds the index: documents' ids are keyed on their paths relative to it."""
        return Path(self.settings.index_dir).resolve().parent

    def _lock(self):
        """The lock file beside the index folder, held: another indexer waits (saying so) up to
        LOCK_WAIT_SECONDS, then gets IndexBusy. A folder that cannot hold the lock raises IndexUnusable."""
        from filelock import FileLock, Timeout

        folder = Path(self.settings.index_dir)
        path = folder.with_name(f"{folder.name}.lock")
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(path))
            try:
                lock.acquire(timeout=0)
            except Timeout:
                print(f"waiting for another process that is indexing into {folder} ...", flush=True)
                try:
                    lock.acquire(timeout=LOCK_WAIT_SECONDS)
                except Timeout:
                    raise IndexBusy(f"{folder} is being indexed by another process; try again when it has finished") from None
        except OSError as exc:
            why = ("a file stands in its path" if isinstance(exc, (FileExistsError, NotADirectoryError))
                   else f"cannot create the lock file {path}: {exc.strerror or exc}")
            raise store.IndexUnusable(
                f"cannot use the index folder {folder}: {why}; make {folder.parent} a writable folder, "
                "or choose another folder with --index DIR or VERBATIM_INDEX"
            ) from exc
        return lock

    def documents(self) -> list[DocInfo]:
        """What the index holds, read from its manifest alone (no model, no vectors)."""
        manifest = store.read_manifest(Path(self.settings.index_dir))
        return [] if manifest is None else [DocInfo(**info) for info in manifest["documents"]]

    def index(
        self, paths: Sequence[str | Path], progress: bool = False, rebuild: bool = False,
        on_stage: Callable[[str], None] | None = None,
    ) -> Summary:
        """Add or update the files under `paths`; with `rebuild`, re-read every indexed file from scratch."""
        began = time.perf_counter()
        say = on_stage or (lambda _msg: None)
        folder = Path(self.settings.index_dir)
        with self._lock():
            if rebuild:
                manifest = store.read_manifest(folder) or {"documents": []}
                old = Index(model=self.settings.model_name, dim=0)
                paths = [info["source"] for info in manifest["documents"] if Path(info["source"]).exists()] + list(paths)
            else:
                old = store.load(folder, self.settings.model_name)
            files, skipped = expand(paths)
            fresh: list[Document] = []
            unchanged = updated = 0
            seen: set[str] = set()
            by_source = {d.source: i for i, d in enumerate(old.documents)}   # the same path under another id
            root = self.root
            for path, source in files:
                doc_id = doc_id_for(path, root)
                if doc_id in seen:
                    continue
                seen.add(doc_id)
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    skipped.append(Skipped(source, f"cannot read the file ({exc.strerror or exc})"))
                    continue
                known = old.by_id.get(doc_id, by_source.get(source))
                if known is not None and old.documents[known].content_hash == content_hash(data):
                    unchanged += 1
                    continue
                try:
                    fresh.append(load(path, source, data, root))
                except LoadError as exc:
                    skipped.append(Skipped(source, str(exc)))
                    continue
                updated += known is not None
            embedded = 0
            if fresh or rebuild:
                say(f"embedding {len(fresh)} documents")
                before = self.encoder.texts_encoded
                replaced = {d.doc_id for d in fresh} | {old.documents[by_source[d.source]].doc_id
                                                        for d in fresh if d.source in by_source}
                parts = [p for p in _parts_of(old) if p.doc.doc_id not in replaced]
                parts += self._embed(fresh, progress)
                embedded = self.encoder.texts_encoded - before
                say("saving the index")
                old = _assemble(parts, self.settings.model_name, self.encoder.dim, self.settings.ann_above)
                store.save(old, folder)
        return Summary(
            added=len(fresh) - updated, updated=updated, unchanged=unchanged, skipped=tuple(skipped),
            documents=len(old.documents), passages=old.size, embedded=embedded,
            seconds=time.perf_counter() - began,
        )

    def remove(self, key: str) -> DocInfo:
        """Take out the document whose id or source path is `key`; KeyError says what is indexed instead."""
        folder = Path(self.settings.index_dir)
        with self._lock():
            old = store.load(folder, self.settings.model_name)
            match = [i for i, d in enumerate(old.documents) if key in (d.doc_id, d.source) or doc_id_for(key, self.root) == d.doc_id]
            if not match:
                raise KeyError(f"no indexed document has the id or source {key!r}; `verbatim docs` lists them")
            gone = old.infos[match[0]]
            parts = [p for p in _parts_of(old) if p.doc.doc_id != gone.doc_id]
            store.save(_assemble(parts, old.model, old.dim, self.settings.ann_above), folder)
        return gone

    def _embed(self, docs: list[Document], progress: bool) -> list[_Part]:
        """Chunk and embed `docs`: one encoder pass over their passages, sentence vectors pooled from it."""
        s = self.settings
        encoder = self.encoder
        chunked = [chunk_document(d, encoder.count_tokens, s.chunk_tokens, s.chunk_overlap_tokens) for d in docs]
        texts: list[str] = []
        spans: list[list[tuple[int, int]]] = []
        for doc, chunks in zip(docs, chunked):
            for p in chunks.passages:
                texts.append(embedded_text(p.text, p.section, doc.title))
                spans.append([])
            base = len(texts) - len(chunks.passages)
            for sent, host in zip(chunks.sentences, chunks.hosts):
                if host >= 0:
                    p = chunks.passages[host]
                    shift = len(texts[base + host]) - len(p.text) - p.start
                    spans[base + host].append((sent.start + shift, sent.end + shift))
        passage_vecs, span_vecs = encoder.encode_passages(texts, spans, progress=progress) if texts else (
            np.zeros((0, encoder.dim), np.float32), [])
        parts: list[_Part] = []
        row = 0
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        for doc, chunks in zip(docs, chunked):
            n = len(chunks.passages)
            s_vecs = np.full((len(chunks.sentences), encoder.dim), np.nan, dtype=np.float32)
            taken = [0] * n
            for k, host in enumerate(chunks.hosts):
                if host >= 0:
                    s_vecs[k] = span_vecs[row + host][taken[host]]
                    taken[host] += 1
            lost = [k for k in range(len(chunks.sentences)) if np.isnan(s_vecs[k, 0])]
            if lost:   # a sentence no passage holds whole (longer than a passage): encode it alone
                s_vecs[lost] = encoder.encode([chunks.sentences[k].text for k in lost])
            hosts = np.array([h if h >= 0 else _host_of(chunks.passages, sent.start)
                              for h, sent in zip(chunks.hosts, chunks.sentences)], dtype=np.int32)
            parts.append(_Part(
                doc=doc,
                info=DocInfo(doc.doc_id, doc.title, doc.source, n, len(doc.text), now, doc.content_hash),
                p_start=np.array([p.start for p in chunks.passages], dtype=np.int64),
                p_end=np.array([p.end for p in chunks.passages], dtype=np.int64),
                p_section=[p.section for p in chunks.passages],
                s_start=np.array([x.start for x in chunks.sentences], dtype=np.int64),
                s_end=np.array([x.end for x in chunks.sentences], dtype=np.int64),
                s_host=hosts, p_vecs=passage_vecs[row:row + n], s_vecs=s_vecs,
            ))
            row += n
        return parts


def _host_of(passages, offset: int) -> int:
    """The last passage starting at or before `offset` (the one a straddling sentence begins in)."""
    best = 0
    for i, p in enumerate(passages):
        if p.start <= offset:
            best = i
    return best


def _parts_of(index: Index) -> list[_Part]:
    """Split a loaded index back into per-document parts (rows of a document are contiguous)."""
    parts: list[_Part] = []
    if not index.documents:
        return parts
    p_bounds = np.searchsorted(index.p_doc, np.arange(len(index.documents) + 1))
    s_bounds = np.searchsorted(index.s_doc, np.arange(len(index.documents) + 1))
    for i, (doc, info) in enumerate(zip(index.documents, index.infos)):
        pa, pb, sa, sb = p_bounds[i], p_bounds[i + 1], s_bounds[i], s_bounds[i + 1]
        parts.append(_Part(
            doc=doc, info=info, p_start=index.p_start[pa:pb], p_end=index.p_end[pa:pb],
            p_section=[index.sections[j] for j in index.p_section[pa:pb]],
            s_start=index.s_start[sa:sb], s_end=index.s_end[sa:sb], s_host=index.s_host[sa:sb] - pa,
            p_vecs=index.passage_vecs[pa:pb], s_vecs=index.sentence_vecs[sa:sb],
        ))
    return parts


def _assemble(parts: list[_Part], model: str, dim: int, ann_above: int) -> Index:
    """One Index from document parts, in order: arrays concatenated, FAISS and BM25 rebuilt (no re-embedding)."""
    sections: dict[str, int] = {}
    p_counts = [len(p.p_start) for p in parts]
    offsets = np.concatenate([[0], np.cumsum(p_counts)]).astype(np.int32)
    cat = (lambda arrays, dtype: np.concatenate(arrays).astype(dtype) if arrays else np.zeros(0, dtype))
    index = Index(
        model=model, dim=dim, documents=[p.doc for p in parts], infos=[p.info for p in parts],
        p_doc=cat([np.full(len(p.p_start), i, np.int32) for i, p in enumerate(parts)], np.int32),
        p_start=cat([p.p_start for p in parts], np.int64), p_end=cat([p.p_end for p in parts], np.int64),
        p_section=np.array([sections.setdefault(s, len(sections)) for p in parts for s in p.p_section], np.int32),
        s_doc=cat([np.full(len(p.s_start), i, np.int32) for i, p in enumerate(parts)], np.int32),
        s_start=cat([p.s_start for p in parts], np.int64), s_end=cat([p.s_end for p in parts], np.int64),
        s_host=cat([p.s_host + offsets[i] for i, p in enumerate(parts)], np.int32),
        passage_vecs=np.concatenate([p.p_vecs for p in parts]).astype(np.float32) if parts else np.zeros((0, dim), np.float32),
        sentence_vecs=np.concatenate([p.s_vecs for p in parts]).astype(np.float32) if parts else np.zeros((0, dim), np.float32),
    )
    index.sections = list(sections)
    index.dense = store.build_dense(index.passage_vecs.reshape(-1, dim), ann_above)
    from embeddings.lexical import Lexical

    # A passage's section path is searchable too: a heading often names what its passages are about.
    index.bm25_passages = Lexical.build([f"{index.sections[int(k)]}\n{t}" for k, t in zip(index.p_section, index.passage_texts())])
    index.bm25_sentences = Lexical.build(index.sentence_texts())
    return index
