"""Answer-quality and retrieval evaluation of the assistant: `python -m eval` (console script `verbatim-eval`).

Modules: datasets (JSONL gold sets), squad (SQuAD as an open-domain set), runner (ask and time every
question), metrics (plain metric functions and the CI gate), report (table, JSON, plots).
"""
