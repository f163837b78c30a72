"""The two encoder backends: the ONNX export gives torch's vectors (atol 1e-4), is made once per model and
machine, and answers without importing torch; a model it cannot reproduce stays on torch."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from embeddings.encoder import SentenceEncoder, onnx_file, onnx_unsupported

TEXTS = [
    "How is SoFi USD backed?",
    "The People's Bank of China and seven other departments issued the notice on virtual currency risks.",
    "x",
    "Ünïcödé, punctuation — and numbers: 3.5% of 1,000,000. " * 30,   # past the 256-token window: truncated alike
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory, settings):
    """An ONNX encoder exporting into a fresh cache, and a torch encoder of the same model."""
    cache = tmp_path_factory.mktemp("onnx-cache")
    onnx = SentenceEncoder(settings.model_path, settings.model_name, backend="onnx", cache_dir=cache)
    assert onnx.backend == "onnx"
    return onnx, SentenceEncoder(settings.model_path, settings.model_name, backend="torch"), cache


def test_onnx_vectors_equal_torch(exported):
    onnx, torch_, _ = exported
    np.testing.assert_allclose(onnx.encode(TEXTS), torch_.encode(TEXTS), atol=1e-4)
    assert (onnx.dim, onnx.max_tokens) == (torch_.dim, torch_.max_tokens)


def test_onnx_passage_and_span_vectors_equal_torch(exported):
    onnx, torch_, _ = exported
    spans = [[(0, 3), (4, 15)], [(0, 40), (41, 98), (2000, 2100)], [(0, 1)], [(0, 60), (5000, 5100)]]
    p_onnx, s_onnx = onnx.encode_passages(TEXTS, spans)
    p_torch, s_torch = torch_.encode_passages(TEXTS, spans)
    np.testing.assert_allclose(p_onnx, p_torch, atol=1e-4)
    for a, b in zip(s_onnx, s_torch):
        assert (np.isnan(a) == np.isnan(b)).all()   # spans past the window come back NaN in both
        np.testing.assert_allclose(np.nan_to_num(a), np.nan_to_num(b), atol=1e-4)


def test_export_is_cached_and_answering_never_imports_torch(exported, settings):
    _, _, cache = exported
    assert onnx_file(settings.model_path, cache).is_file()
    code = (f"import sys; from embeddings.encoder import SentenceEncoder\n"
            f"e = SentenceEncoder({settings.model_path!r}, backend='onnx', cache_dir={str(cache)!r})\n"
            "v = e.encode(['How is SoFi USD backed?'])\n"
            "assert v.shape == (1, 384) and 'torch' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)[:3]\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_models_onnx_cannot_reproduce_stay_on_torch(tmp_path):
    folder = tmp_path / "cls-model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "tokenizer.json").write_text("{}")
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]))
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    assert "pooling_mode_cls_token" in onnx_unsupported(str(folder))
    assert "not a local model folder" in onnx_unsupported("sentence-transformers/all-MiniLM-L6-v2")
    with pytest.raises(ValueError, match="backend must be"):
        SentenceEncoder(str(folder), backend="tensorflow")
    with pytest.raises(ValueError, match="cannot run"):
        SentenceEncoder(str(folder), backend="onnx").encode(["x"])
    assert SentenceEncoder(str(folder))._choose() == "torch"


def test_damaged_export_is_made_anew(exported, settings, tmp_path):
    _, torch_, cache = exported
    damaged = onnx_file(settings.model_path, tmp_path)
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"not an onnx model")
    again = SentenceEncoder(settings.model_path, backend="onnx", cache_dir=tmp_path)
    np.testing.assert_allclose(again.encode(TEXTS[:2]), torch_.encode(TEXTS[:2]), atol=1e-4)
    assert damaged.stat().st_size > 1_000_000
