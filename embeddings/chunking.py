"""Cut a document into passages (the retrieval unit) and sentences (the quoting unit), with exact offsets.

Passages come from langchain-text-splitters on sentence-friendly separators, sized in model tokens so
none is truncated by the encoder's window; each lies inside one section and never covers a skip span.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from embeddings.documents import Document, Passage, Sentence
from embeddings.layout import segments
from embeddings.sentences import split_sentences

SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ": ", ", ", " ", ""]


@dataclass(frozen=True, slots=True)
class Chunks:
    passages: tuple[Passage, ...]
    sentences: tuple[Sentence, ...]
    hosts: tuple[int, ...]   # per sentence: index of the first passage that holds it whole, -1 if none does


def chunk_document(
    document: Document, count_tokens: Callable[[str], int], chunk_tokens: int, overlap_tokens: int
) -> Chunks:
    """Passages of at most `chunk_tokens` tokens (overlapping by about `overlap_tokens`) and all sentences."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter   # slow to import; answering never needs it

    splitter = RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        keep_separator="end",
        chunk_size=chunk_tokens,
        chunk_overlap=overlap_tokens,
        length_function=count_tokens,
        strip_whitespace=True,
    )
    text = document.text
    passages: list[Passage] = []
    sentences: list[Sentence] = []
    hosts: list[int] = []
    for seg_start, seg_end, section in segments(document):
        first = len(passages)
        cursor = seg_start
        for piece in splitter.split_text(text[seg_start:seg_end]):
            # The splitter returns text, not offsets: find each piece after the previous one's start.
            start = text.find(piece, cursor, seg_end)
            if start < 0:
                raise AssertionError(f"chunk not found in {document.source} after offset {cursor}")
            passages.append(Passage(document.doc_id, start, start + len(piece), piece, section))
            cursor = start + 1
        host = first
        for start, end in split_sentences(text, seg_start, seg_end):
            sentences.append(Sentence(document.doc_id, start, end, text[start:end]))
            # Sentences and passage starts both run forward: a passage ending before this sentence ends
            # cannot hold it or any later one, so the first holder is the first passage not skipped.
            while host < len(passages) and passages[host].end < end:
                host += 1
            hosts.append(host if host < len(passages) and passages[host].start <= start else -1)
    return Chunks(tuple(passages), tuple(sentences), tuple(hosts))
