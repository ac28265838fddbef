"""The pinned environment keeps notebook runs cheap: what every kernel and runner imports."""

from __future__ import annotations

import subprocess
import sys


def test_nbformat_and_glue_do_not_compile_a_uri_grammar() -> None:
    """``myst_nb.glue`` (every chapter's kernel) and papermill import nbformat → jsonschema.

    jsonschema ≥ 4.24 imports rfc3987-syntax, which builds a lark grammar at import time
    (3.7 s per process on the 2-core build machine, × 40 notebooks in the book); the lock
    pins jsonschema < 4.24 (pyproject.toml says why).
    """
    code = ("import sys; from myst_nb import glue; glue('x', 1, display=False); import nbformat; "
            "print(sorted(m for m in ('rfc3987_syntax', 'lark') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
