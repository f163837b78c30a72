"""BM25 terms and scoring: the cached term look-up and the per-row scorer agree with the plain computations."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings as hsettings, strategies as st

from embeddings import lexical
from embeddings.lexical import Lexical, stem, terms


def _plain_terms(text: str) -> list[str]:
    return [stem(w) for w in lexical._WORD.findall(text.lower()) if w not in lexical.STOPWORDS]


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
@hsettings(max_examples=300, deadline=None)
def test_cached_terms_equal_stemming_every_word(text):
    assert terms(text) == _plain_terms(text)
    assert terms(text) == _plain_terms(text)   # the second time from the cache


def test_curly_quotes_split_words_like_straight_ones():
    assert terms("It’s “SoFi’s” coin") == terms("It's \"SoFi's\" coin") == ["sofi", "coin"]


def test_scores_of_rows_equal_full_scores(bot):
    index = bot.index
    for lex in (index.bm25_passages, index.bm25_sentences):
        full_rows = np.arange(lex.size)
        for question in ("How is SoFi USD backed by reserves?", "Which departments issued the notice notice?", "zzz"):
            query = terms(question)
            full = lex.scores(query)
            np.testing.assert_array_equal(lex.scores_of(query, full_rows), full)
            some = np.array([lex.size - 1, 0, int(np.argmax(full))])
            np.testing.assert_array_equal(lex.scores_of(query, some), full[some])


def test_scores_of_on_an_empty_index():
    empty = Lexical.build([])
    assert empty.scores_of(["bank"], np.array([], dtype=np.int64)).shape == (0,)
