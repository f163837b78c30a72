"""From retrieved passages to an Answer: rank their sentences, quote the best verbatim, or abstain.

The feature ranker scores every sentence of the retrieved passages; the reader (when on) reads the ranker's
best `reader_candidates` with the question, and their calibrated combination is each sentence's probability
of answering. Quotes are spans of the document text (neighbouring sentences joined when the answer runs across
them or when a sentence opens by pointing back at the one before; a lead-in ending with a colon quoted with the
items of its list, an item with its lead-in); a question, a fragment of under three words, or what is not prose
(markup, a URL list, a page number) is never quoted. Abstains when the best sentence's probability is under the
threshold.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import islice, takewhile
from typing import TypeVar

import numpy as np

from assistant.acronyms import acronyms_in, definitions, named
from assistant.answer import Answer, Found, Quote
from assistant.parties import aliases, as_defined
from assistant.question import Query, plain
from assistant.ranking import FEATURES, Candidate, Ranker, features, points_back
from assistant.reader import Reader, logit
from assistant.retrieval import Retrieved
from assistant.spelling import Spellings, respelled, respellings
from assistant.variants import Variants
from embeddings.documents import page_of
from embeddings.lexical import terms
from embeddings.settings import Settings
from embeddings.store import Index

T = TypeVar("T")
_KEY_SHIFT = 1 << 40   # sentence key = doc row * 2**40 + start: sorted, since rows of a document are contiguous
MIN_QUOTE_WORDS = 3
SECOND_QUOTE_RATIO = 0.6   # a further quote must score at least this share of the best one
JOIN_RATIO = 0.5   # the sentence after the best one joins its quote when it scores this share of it (same section)


PREFIX = 5   # a question word is "known" when the documents hold it, or a word sharing its first letters
_MARKUP = re.compile(r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>")
_URL = re.compile(r"https?://|www\.", re.I)
_ITEM_MARK = re.compile(r"^(?:[-–—•*·▪◦●○]|\(?(?:\d{1,2}|[a-z]|[ivx]{1,4})[.)])\s")   # "- ", "• ", "1. ", "(a) ", "iv) "
MAX_LIST_ROWS = 12      # a quoted list holds at most this many sentences (its lead-in and items) ...
MAX_LIST_CHARS = 1200   # ... and characters
_CLAUSE = re.compile(   # "8.05 GOVERNING LAW.", "13. Assignment", "Section 4. Term", "ARTICLE 7"
    r"^\s*(?:(?i:section|article|clause)\s+[0-9IVXLC]+(?:\.\d+)*\.?(?:\s*[-–—:.]|\s+[A-Z])|ARTICLE\b"
    r"|\d{1,3}(?:\.\d{1,3})+\.?\s+[A-Z]|\d{1,3}\.\s+[A-Z])")
_END_MARKS = (".", "!", "?", ":", ";", '"', "”", "’", ")", "]")
_POINTS_AHEAD = re.compile(r"\b(?:below|as follows|the following|this table|the table)\b", re.I)
LEAD_IN_REACH = 3       # an item is quoted from its lead-in when that is at most this many sentences before it


def is_prose(text: str) -> bool:
    """Whether a sentence can answer anything: words, not markup, a list of links or a page number.

    Letters must be at least 40% of its visible characters (a figure or a clause number in a sentence is
    fine; "17", "— 3 —" or a row of numbers is not); no tag, at most one URL."""
    visible = sum(not c.isspace() for c in text)
    letters = sum(c.isalpha() for c in text)
    return letters >= 0.4 * visible and not _MARKUP.search(text) and len(_URL.findall(text)) <= 1


@dataclass(frozen=True, slots=True)
class Prepared:
    """An index with what answering looks up per question, computed once when the index is loaded."""

    index: Index
    keys: np.ndarray        # (m,) sentence keys, sorted: doc row * 2**40 + start
    known: frozenset[str]   # indexed terms and the 5-letter prefixes of the longer ones
    defined: dict[str, frozenset[str]]   # acronyms the documents define -> the terms of their names
    named: dict[str, str]   # acronyms their titles and headings abbreviate -> the name ("uc" -> "Universal Credit")
    parties: dict[str, tuple[str, frozenset[str]]]   # parties named once, then by a defined term (`parties.aliases`)
    spelt: Spellings        # the words the documents write, for misspelt questions

    def is_known(self, term: str) -> bool:
        return term in self.known or (len(term) > PREFIX and term[:PREFIX] in self.known)


def prepare(index: Index) -> Prepared:
    vocabulary = index.bm25_sentences.vocabulary if index.bm25_sentences is not None else ()
    known = set(vocabulary) | {t[:PREFIX] for t in vocabulary if len(t) > PREFIX}
    texts = {d.content_hash or d.doc_id: d.text for d in index.documents}.values()   # a copy is read once
    return Prepared(index, index.s_doc.astype(np.int64) * _KEY_SHIFT + index.s_start, frozenset(known),
                    definitions(texts), named([d.title for d in index.documents] + list(index.sections)),
                    aliases(texts), Spellings(texts, vocabulary))


def in_their_words(prepared: Prepared, query: Query) -> Query:
    """`query` as the documents word it: its misspelt words as they spell them ("aply" -> "apply", `spelling`), a
    party a contract calls by a defined term named by that term ("can Kestrel subcontract?" -> "can the Supplier
    subcontract?", `parties`), then with the names of acronyms that only a title or heading spells out
    (`spelled_out`)."""
    fixes = respellings(f"{query.text} {query.asked}", prepared.spelt)
    query = _reworded(query, lambda text: respelled(text, fixes))
    return spelled_out(prepared, _reworded(query, lambda text: as_defined(text, prepared.parties)))


def _reworded(query: Query, reword: Callable[[str], str]) -> Query:
    """`query` with its text and the question as asked reworded, and the terms of the new text."""
    text = reword(query.text)
    return query if text == query.text else replace(query, text=text, terms=tuple(terms(text)),
                                                    asked=reword(query.asked))


def spelled_out(prepared: Prepared, query: Query) -> Query:
    """`query` with the names of its acronyms that no document uses but a title or heading abbreviates ("when does
    the first UC money land?" on a page titled "Universal Credit"), after it: retrieval and the ranker read them."""
    names = [prepared.named[letters] for letters, term in acronyms_in(plain(query.question)).items()
             if letters in prepared.named and not prepared.is_known(term)]
    if not names:
        return query
    return replace(query, text=f"{query.text} ({', '.join(names)})",
                   terms=query.terms + tuple(t for name in names for t in terms(name)))


def candidate_rows(index: Index, keys: np.ndarray, passage_rows: np.ndarray) -> list[tuple[int, int]]:
    """(sentence row, rank of the first retrieved passage it overlaps), in order of first appearance."""
    seen: dict[int, int] = {}
    for rank, p in enumerate(passage_rows.tolist()):
        doc, p_start, p_end = int(index.p_doc[p]), int(index.p_start[p]), int(index.p_end[p])
        lo = max(int(np.searchsorted(keys, doc * _KEY_SHIFT + p_start, "right")) - 1, 0)
        hi = int(np.searchsorted(keys, doc * _KEY_SHIFT + p_end, "left"))
        for s in range(lo, hi):
            if int(index.s_doc[s]) == doc and int(index.s_end[s]) > p_start:
                seen.setdefault(s, rank)
    return list(seen.items())


@dataclass(frozen=True, slots=True)
class Scored:
    """The candidate sentences of a question with their features and probability of answering it."""

    rows: np.ndarray     # (n,) sentence rows
    texts: list[str]
    x: np.ndarray        # (n, len(FEATURES)) features
    prob: np.ndarray     # (n,) probability; 0 for what may never be quoted


def score_sentences(prepared: Prepared, query: Query, query_vec: np.ndarray, found: Retrieved, ranker: Ranker) -> Scored:
    """Features and probabilities of every sentence of the retrieved passages."""
    index = prepared.index
    rows = candidate_rows(index, prepared.keys, found.rows)
    sent_rows = np.array([s for s, _ in rows], dtype=np.int64)
    texts = [index.documents[int(index.s_doc[s])].text[int(index.s_start[s]):int(index.s_end[s])] for s in sent_rows]
    if not rows:
        return Scored(sent_rows, texts, np.zeros((0, len(FEATURES)), np.float32), np.zeros(0))
    variants = Variants(query.text, query.terms, prepared.defined)
    own_terms = [variants.terms(t) for t in texts]
    own = index.sentence_vecs[sent_rows]
    cos = own @ query_vec.reshape(-1)
    window = _window_cos(index, sent_rows, own, cos, query_vec.reshape(-1))
    bm25 = index.bm25_sentences.scores_of(list(query.terms), sent_rows)
    bm25 = bm25 / (bm25.max() or 1.0)
    position = {s: i for i, s in enumerate(sent_rows.tolist())}
    candidates, titles = [], {}
    for i, (s, rank) in enumerate(rows):
        context = set(own_terms[i])
        for n in (s - 1, s + 1):
            if 0 <= n < len(index.s_doc) and index.s_doc[n] == index.s_doc[s]:
                context |= own_terms[position[n]] if n in position else variants.terms(index.sentence(n).text)
        doc = int(index.s_doc[s])
        if doc not in titles:
            titles[doc] = variants.terms(index.documents[doc].title)
        context |= titles[doc]   # a page seldom repeats the topic its title names
        candidates.append(Candidate(
            cos=float(cos[i]), window_cos=float(window[i]), passage_cos=float(found.dense[rank]), fused=float(found.fused[rank]),
            passage_rank=rank, bm25=float(bm25[i]), terms=own_terms[i], context_terms=frozenset(context),
            text=texts[i],
        ))
    idf = dict(zip(query.terms, index.bm25_sentences.idf(list(query.terms)).tolist()))
    spelled = variants.spelled_out(own_terms)   # an acronym is known where the documents spell it out
    x = features(candidates, query.terms, idf, query.kind, lambda t: t in spelled or prepared.is_known(t))
    quotable = np.array([len(t.split()) >= MIN_QUOTE_WORDS and not t.rstrip().endswith("?") and is_prose(t)
                         for t in texts])
    return Scored(sent_rows, texts, x, np.where(quotable, ranker.probability(x), 0.0))


def _window_cos(index: Index, rows: np.ndarray, own: np.ndarray, cos: np.ndarray, query_vec: np.ndarray) -> np.ndarray:
    """Per sentence, the best cosine of the question with it joined to the sentence before or after it (same
    document), so a sentence that answers through "this" or "they" gets credit for what they refer to.

    `own` holds the sentences' vectors and `cos` their own cosines (used where a sentence has no neighbour)."""
    vecs = index.sentence_vecs
    best = np.full(len(rows), -1.0, dtype=np.float32)
    for shift in (-1, 1):
        other = np.clip(rows + shift, 0, len(vecs) - 1)
        same = (index.s_doc[other] == index.s_doc[rows]) & (other != rows)
        joined = own + vecs[other]
        joined /= np.maximum(np.linalg.norm(joined, axis=1, keepdims=True), 1e-12)
        best = np.where(same, np.maximum(best, joined @ query_vec), best)
    return np.where(best < -0.5, cos, best)


def best_rows(scored: Scored, n: int) -> np.ndarray:
    """Positions in `scored` of its n best quotable sentences by the ranker, best first: what the reader reads. A
    sentence in the words of a better one (a page that repeats itself) is left out: the reader reads it once."""
    quotable = takewhile(lambda i: scored.prob[i] > 0, np.argsort(-scored.prob, kind="stable").tolist())
    return np.array(list(islice(_distinct(quotable, lambda i: scored.texts[i]), n)), dtype=np.int64)


def readings(query: Query) -> tuple[str, ...]:
    """What the reader reads as the question: a follow-up both as the chat resolves it (the earlier questions it
    leans on, then it) and as asked, so that the earlier questions' topic helps without their own details
    outvoting the latest question's ("How do I apply?" after a question on earnings)."""
    return (query.text,) if query.text == query.asked else (query.text, query.asked)


def reader_logits(reader: Reader, query: Query, texts: list[str]) -> np.ndarray:
    """(len(texts),) the reader's logits for the sentences (`as_read`): the mean over the question's `readings`."""
    texts = [as_read(t) for t in texts]
    return np.mean([reader.logits(q, texts) for q in readings(query)], axis=0).astype(np.float32)


def read(reader: Reader, query: Query, scored: Scored, candidates: int) -> np.ndarray:
    """(n,) probabilities: the reader's calibrated reading of the ranker's best `candidates` quotable sentences
    (`best_rows`), combined with the ranker's logit. A repeat of a sentence it read is rated as that one; the other
    quotable sentences as if the reader rated them as low as the lowest one it read: never above a sentence it
    read, and still comparable as neighbours that join a quote. What may never be quoted stays 0."""
    quotable = scored.prob > 0
    order = best_rows(scored, candidates)
    if not len(order):
        return np.zeros_like(scored.prob)
    logits = np.full(len(scored.prob), 0.0, dtype=np.float32)
    logits[order] = reader_logits(reader, query, [scored.texts[i] for i in order])
    read_as = {_said(scored.texts[i]): float(logits[i]) for i in order}
    for i in np.setdiff1d(np.flatnonzero(quotable), order):
        logits[i] = read_as.get(_said(scored.texts[i]), logits[order].min())   # a repeat as its twin was read
    return np.where(quotable, reader.calibration.probability(logits, logit(scored.prob)), 0.0)


def abstain_below(settings: Settings, ranker: Ranker, reader: Reader | None) -> float:
    """The confidence under which to abstain: settings.abstain_below, or when that is negative the threshold
    picked on development data for the scorer in use (the reader's, else the ranker's)."""
    if settings.abstain_below >= 0:
        return settings.abstain_below
    return reader.calibration.abstain_below if reader else ranker.abstain_below


def answer(prepared: Prepared, query: Query, query_vec: np.ndarray, found: Retrieved, ranker: Ranker,
           settings: Settings, reader: Reader | None = None) -> Answer:
    """Up to settings.max_quotes quotes, best first, or none when the best is under `abstain_below`."""
    index = prepared.index
    passages = tuple(_found(index, int(r), float(f)) for r, f in zip(found.rows, found.fused))
    scored = score_sentences(prepared, query, query_vec, found, ranker)
    if not len(scored.rows):
        return Answer(query.question, (), passages, 0.0)
    prob = read(reader, query, scored, settings.reader_candidates) if reader else scored.prob
    threshold = abstain_below(settings, ranker, reader)
    order = np.argsort(-prob, kind="stable")
    best = float(prob[order[0]])
    if best < threshold or best <= 0:
        return Answer(query.question, (), passages, best)
    # a further quote must answer too: over the threshold, and close to the best; and say something else (a page
    # that repeats a sentence, "You could get £83.30 a week...", under two headings quotes it once)
    answering = takewhile(lambda i: prob[i] >= max(threshold, SECOND_QUOTE_RATIO * best), order.tolist())
    chosen = [int(scored.rows[i]) for i in islice(_distinct(answering, lambda i: scored.texts[i]), settings.max_quotes)]
    scores = {int(scored.rows[i]): float(prob[i]) for i in order}
    return Answer(query.question, _quotes(index, _with_context(index, chosen, scored), scores), passages, best)


def quote_of(index: Index, scored: Scored, i: int) -> Quote:
    """The quote that `answer` shows when candidate `i` of `scored` scores best: the sentence with the
    neighbours it runs on with. What the reader's calibration labels, so that it learns what the user sees."""
    return _quotes(index, _with_context(index, [int(scored.rows[i])], scored), {})[0]


def _with_context(index: Index, chosen: list[int], scored: Scored) -> list[int]:
    """The chosen sentence rows and the neighbours that run on with them (`_runs_on`) that their quotes need: the
    sentence before one that opens by pointing back ("It is designed..."), and the sentence after the best one
    when the ranker rates it JOIN_RATIO of it (an answer that runs on: "...by operating as a bank. This means
    heightened oversight..."), unless it opens a numbered clause of its own (`opens_clause`); and the other part of
    a sentence that a page break cuts in two (`breaks_across`). Joining the next sentence is the ranker's call, not
    the reader's: its features read the neighbours, the reader reads one sentence (and only the ranker's best), and
    with the reader's scores quotes lost their ends."""
    def ranker(row: int) -> float:
        at = np.flatnonzero(scored.rows == row)
        return float(scored.prob[at[0]]) if len(at) else 0.0

    best = chosen[0]
    out = [s - 1 for s in chosen if s > 0 and _runs_on(index, s - 1) and points_back(index.sentence(s).text)]
    out += [s - 1 for s in chosen if s > 0 and breaks_across(index, s - 1)]
    out += [s + 1 for s in chosen if breaks_across(index, s)]
    if _runs_on(index, best) and not opens_clause(index.sentence(best + 1).text) \
            and ranker(best + 1) >= JOIN_RATIO * ranker(best):
        out.append(best + 1)
    return chosen + out


def opens_clause(sentence: str) -> bool:
    """Whether a sentence opens a numbered clause of its own ("8.05 GOVERNING LAW. All disputes...", "13.
    Assignment.", "Section 4. Term", "ARTICLE 7"): a new provision, not the run-on of the one before it."""
    return bool(_CLAUSE.match(sentence))


def _runs_on(index: Index, row: int) -> bool:
    """Whether sentence `row + 1` follows `row` in the same section with only white space between (no heading
    or page furniture left out of the index, unless a page break cut the sentence there: `breaks_across`), so
    that one quote may hold both."""
    nxt = row + 1
    if nxt >= len(index.s_doc) or index.s_doc[nxt] != index.s_doc[row]:
        return False
    if index.p_section[index.s_host[nxt]] != index.p_section[index.s_host[row]]:
        return False
    gap = index.documents[int(index.s_doc[row])].text[int(index.s_end[row]):int(index.s_start[nxt])]
    return not gap.strip() or breaks_across(index, row)


def breaks_across(index: Index, row: int) -> bool:
    """Whether a page break cuts a sentence into rows `row` and `row + 1` of one document ("...subject to" | "Page
    4 of 9" | "the terms hereof."): the first ends without end punctuation, the second opens in lower case, and
    between them lie only white space and page furniture (skip spans), with a sign of a page break: furniture,
    a page's start, or more than one blank line. A quote of either holds both, and the furniture between."""
    nxt = row + 1
    if nxt >= len(index.s_doc) or index.s_doc[nxt] != index.s_doc[row]:
        return False
    doc = index.documents[int(index.s_doc[row])]
    end, start = int(index.s_end[row]), int(index.s_start[nxt])
    before = doc.text[int(index.s_start[row]):end]
    if (before.endswith(_END_MARKS) or not doc.text[start:start + 1].islower()
            or len(before.split()) < MIN_QUOTE_WORDS):
        return False
    furniture = [(a, b) for a, b in doc.skip if end <= a and b <= start]
    rest, at = [], end
    for a, b in furniture:
        rest.append(doc.text[at:a])
        at = b
    rest.append(doc.text[at:start])
    if "".join(rest).strip():
        return False
    return bool(furniture) or any(end < p <= start for p in doc.pages) or doc.text[end:start].count("\n") > 2


def is_list_item(sentence: str) -> bool:
    """Whether a sentence reads as an item of a list rather than a sentence of its own: it opens with a bullet or
    a marker ("-", "•", "1.", "(a)"), or with a small letter, or ends without a full stop ("Attendance Allowance",
    "you're 16 or over")."""
    text = sentence.strip()
    return bool(_ITEM_MARK.match(text)) or text[:1].islower() or not text.endswith((".", "!", "?", ":"))


_CELL_BAR = re.compile(r"\s*\|\s*")   # between a table row's cells, and at its ends
_RULE_ROW = re.compile(r"^\|?(?:\s*:?-{3,}:?\s*\|)+(?:\s*:?-{3,}:?\s*)?$")   # Markdown's "|---|:---:|"


def is_table_row(sentence: str) -> bool:
    """Whether a sentence is a row of a table: its cells joined by " | " (HTML and Word tables, `embeddings.formats`;
    Markdown tables), or the rule under a Markdown table's header ("|---|---|")."""
    return " | " in sentence or bool(_RULE_ROW.match(sentence.strip()))


def as_read(sentence: str) -> str:
    """A sentence as the reader reads it: a table row as its cells in a line, without the " | " between them ("|
    Carer addition | £46.20 |" -> "Carer addition, £46.20."; the reader learnt from prose); other sentences as they
    are."""
    if not is_table_row(sentence):
        return sentence
    cells = [c for c in _CELL_BAR.split(sentence.strip()) if c]
    return ", ".join(cells) + "." if cells else sentence


def _table_head(index: Index, row: int) -> int:
    """The first row of the table that sentence `row` belongs to (its header, in most tables): the earliest of the
    table rows running on into it; `row` itself when it is no table row or the first."""
    head = row
    while head > 0 and is_table_row(index.sentence(head).text) and _runs_on(index, head - 1) \
            and is_table_row(index.sentence(head - 1).text):
        head -= 1
    return head


def _lead_in(index: Index, row: int) -> bool:
    """Whether sentence `row` introduces what follows it ("...one of these benefits:"), in the same section."""
    return _runs_on(index, row) and index.sentence(row).text.rstrip().endswith(":")


def _list_span(index: Index, first: int, last: int) -> tuple[int, int]:
    """The quote [first, last] with the list it belongs to: from a lead-in it holds, the items to the list's end;
    from an item it opens with, back to the item's lead-in when that is near (LEAD_IN_REACH: deeper in a long list
    the item stands alone, the source shows the rest); from a table row, back to its table's first row, the
    header that says what its cells are, and from that header, alone or after a sentence that points at the table
    ("...at the rates below."; the header joins such a sentence), the rows it heads. Within one section, at
    most MAX_LIST_ROWS rows and MAX_LIST_CHARS characters."""
    def chars(a: int, b: int) -> int:
        return int(index.s_end[b]) - int(index.s_start[a])

    head = _table_head(index, first)
    if (_runs_on(index, last) and is_table_row(index.sentence(last + 1).text) and _table_head(index, last + 1) == last + 1
            and any(_POINTS_AHEAD.search(index.sentence(r).text) for r in range(first, last + 1))):
        last += 1   # "...at the rates below." and the table it points at
    ends_on_header = is_table_row(index.sentence(last).text) and _table_head(index, last) == last
    if ends_on_header and (first == last or not is_table_row(index.sentence(first).text)):
        while (last - first < MAX_LIST_ROWS and _runs_on(index, last) and is_table_row(index.sentence(last + 1).text)
               and chars(first, last + 1) <= MAX_LIST_CHARS):
            last += 1   # a header says nothing alone, or after the sentence that leads into its table: its rows
        return first, last
    if head < first and last - head < MAX_LIST_ROWS and chars(head, last) <= MAX_LIST_CHARS:
        return head, last

    if any(_lead_in(index, r) for r in range(first, last + 1)):
        if _lead_in(index, last):
            last += 1   # what a lead-in introduces, item or not
        while (last - first < MAX_LIST_ROWS and _runs_on(index, last) and is_list_item(index.sentence(last + 1).text)
               and is_list_item(index.sentence(last).text) and chars(first, last + 1) <= MAX_LIST_CHARS):
            last += 1
        return first, last
    start = first
    while (start > 0 and first - start < LEAD_IN_REACH and last - start < MAX_LIST_ROWS
           and is_list_item(index.sentence(start).text) and _runs_on(index, start - 1)
           and chars(start - 1, last) <= MAX_LIST_CHARS):
        if _lead_in(index, start - 1):
            return start - 1, last
        start -= 1
    return first, last


def _joined(index: Index, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of sentence rows in document order, those that overlap or run on into each other joined."""
    out: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if out and (first <= out[-1][1] or (first == out[-1][1] + 1 and _runs_on(index, out[-1][1]))):
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out


def _quotes(index: Index, chosen: list[int], scores: dict[int, float]) -> tuple[Quote, ...]:
    """Quotes for the chosen sentence rows, best first; runs of adjacent ones joined, and lists whole (`_list_span`);
    a quote in the words of a better one (a page that repeats itself) left out."""
    runs = _joined(index, [(s, s) for s in chosen])
    spans = _joined(index, [_list_span(index, first, last) for first, last in runs])
    out = []
    for first, last in spans:
        doc = index.documents[int(index.s_doc[first])]
        start, end = int(index.s_start[first]), int(index.s_end[last])
        host = int(index.s_host[first])
        out.append(Quote(doc.doc_id, start, end, doc.text[start:end], max(scores.get(r, 0.0) for r in range(first, last + 1)),
                         doc.source, doc.title, index.sections[int(index.p_section[host])], page_of(doc, start),
                         tuple((a, b) for a, b in doc.skip if start < a and b < end)))
    return tuple(_distinct(sorted(out, key=lambda q: -q.score), lambda q: q.text))


def _said(text: str) -> str:
    """What a text says, for telling repeats apart: its words, case folded."""
    return " ".join(text.split()).casefold()


def _distinct(items: Iterable[T], text_of: Callable[[T], str]) -> Iterator[T]:
    """`items` in order, without those in the words of an earlier one (a page that repeats itself)."""
    said: set[str] = set()
    for item in items:
        key = _said(text_of(item))
        if key not in said:
            said.add(key)
            yield item


def _found(index: Index, row: int, score: float) -> Found:
    p = index.passage(row)
    doc = index.document(p.doc_id)
    return Found(p.doc_id, p.start, p.end, p.text, score, doc.source, doc.title, p.section, page_of(doc, p.start))
