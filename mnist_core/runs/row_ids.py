"""A benchmark row's id, `kind/parameter` (train/cpu-mlp-dataloader-bs128-w2): how run files' skipped and failed
lists, reports, compare and the ab sessions name a row. The parameter is the benchmark's pytest id, which is the
setting's label. The one place the format is written and read; no imports, so the ab worker loads it at no cost.
"""

from __future__ import annotations


def row_id(kind: str, parameter: str) -> str:
    return f"{kind}/{parameter}"


def split_row_id(row: str) -> tuple[str, str]:
    """(kind, parameter) of a row id; a string without a '/' is all kind."""
    kind, _, parameter = row.partition("/")
    return kind, parameter


def parameter_of(test_name: str | None) -> str | None:
    """The pytest parameter id of a benchmark's name: test_train[cpu-mlp-resident-bs128] -> cpu-mlp-resident-bs128."""
    if test_name and test_name.endswith("]") and "[" in test_name:
        return test_name[test_name.index("[") + 1:-1]
    return None
