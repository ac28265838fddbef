"""The ``carbonlab`` command.

``carbonlab book``, ``carbonlab run NOTEBOOK -p region 宁夏``, ``carbonlab regions``,
``carbonlab data list|verify|fetch|teaching``, ``carbonlab batch GRID.yaml`` (Dask),
``carbonlab student-edition DIR``, ``carbonlab pdf``. Any bad input prints one line on
stderr and exits with code 2; nothing half-written is left behind.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from carbonlab import __version__
from carbonlab._util import CarbonlabError, check_writable_dir

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        sys.stderr.write(f"carbonlab: error: {message}\n")
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="carbonlab", description="Carbon-peak forecasting for Chinese provinces "
                "and cities: the book, its chapters and its data.")
    p.add_argument("--version", action="version", version=f"carbonlab {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    b = sub.add_parser("book", help="execute every chapter with papermill and build the HTML book")
    b.add_argument("--dataset", default="teaching", help="teaching (default) or ceads")
    b.add_argument("--jobs", type=int, default=2, help="notebooks executed in parallel")
    b.add_argument("--no-execute", action="store_true", help="build from executed/ as it is")
    b.add_argument("--no-gallery", action="store_true",
                   help="skip the per-region pages (an answer-first page per province, one per pilot city)")

    r = sub.add_parser("run", help="run one chapter (for one region) with papermill")
    r.add_argument("notebook", help="path, file name or stem, e.g. 04_forecast_peaks")
    r.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                   metavar=("NAME", "VALUE"), help="a notebook parameter (repeatable)")
    r.add_argument("-o", "--output", help="executed notebook path (default runs/<chapter>"
                   "[_<region>].ipynb; never a source notebook, never executed/)")

    g = sub.add_parser("regions", help="list the 30 provinces and their accepted spellings")
    g.add_argument("--resolve", metavar="NAME", help="print the canonical name of NAME")

    d = sub.add_parser("data", help="the data: list, verify, fetch, teaching")
    dsub = d.add_subparsers(dest="data_command", required=True, parser_class=_Parser)
    dsub.add_parser("list", help="list the datasets and the real-data files")
    v = dsub.add_parser("verify", help="check the real-data files against their sha256")
    v.add_argument("--data-dir", help="default $CARBONLAB_DATA_DIR")
    f = dsub.add_parser("fetch", help="download the real-data files (needs the internet)")
    f.add_argument("--dest", help="default $CARBONLAB_DATA_DIR")
    t = dsub.add_parser("teaching", help="regenerate or check the teaching panel")
    t.add_argument("--write", action="store_true", help="rewrite data/teaching/ from the seed")
    t.add_argument("--check", action="store_true",
                   help="exit 1 unless the committed files are reproduced byte for byte")

    s = sub.add_parser("student-edition", help="write the notebooks without solutions or outputs")
    s.add_argument("dir", help="a new or empty folder (or an earlier student edition, replaced)")
    q = sub.add_parser("pdf", help="print the built book to PDF: the whole book and one per chapter")
    q.add_argument("--html", help="the built book (default _build/html)")
    q.add_argument("--out", help="output folder (default _build/pdf)")

    lp = sub.add_parser("leap", help="a city's LEAP model: export its results")
    lsub = lp.add_subparsers(dest="leap_command", required=True, parser_class=_Parser)
    le = lsub.add_parser("export", help="write a city's results by branch, fuel and scenario "
                                        "to an .xlsx workbook")
    le.add_argument("city", help="English or Chinese name (兰州, Lanzhou)")
    le.add_argument("-o", "--output", required=True, help="the workbook to write (.xlsx)")
    le.add_argument("--dataset", default="teaching", help="teaching or ceads")
    le.add_argument("--horizon-end", type=int, default=2035, help="last forecast year")

    from carbonlab.batch import add_batch_parser

    add_batch_parser(sub)
    return p


def _cmd_book(a: argparse.Namespace) -> int:
    from carbonlab.book import build_book
    from carbonlab.data import check_dataset

    check_dataset(a.dataset)
    if a.jobs < 1:
        raise CarbonlabError(f"--jobs must be ≥ 1, got {a.jobs}")
    index = build_book(dataset=a.dataset, jobs=a.jobs, execute=not a.no_execute,
                       gallery=not a.no_gallery)
    print(f"The book is at {index}")
    return 0


def _cmd_run(a: argparse.Namespace) -> int:
    from carbonlab.runner import run_notebook

    params: dict[str, str] = {}
    for name, value in a.parameter:
        if name in params:
            raise CarbonlabError(f"parameter {name!r} given twice")
        params[name] = value
    out = run_notebook(a.notebook, params, a.output, log=print)
    print(out)
    return 0


def _cmd_regions(a: argparse.Namespace) -> int:
    from carbonlab.regions import province_table, resolve_region

    if a.resolve is not None:
        print(resolve_region(a.resolve))
        return 0
    print(province_table().to_string(index=False))
    return 0


def _cmd_data(a: argparse.Namespace) -> int:
    return {"list": _data_list, "verify": _data_verify, "fetch": _data_fetch,
            "teaching": _data_teaching}[a.data_command](a)


def _data_list(a: argparse.Namespace) -> int:
    from carbonlab.data import DATASETS
    from carbonlab.data.registry import REGISTRY

    print("datasets:", ", ".join(DATASETS))
    print(f"real-data files (under $CARBONLAB_DATA_DIR = "
          f"{os.environ.get('CARBONLAB_DATA_DIR', 'unset')}):")
    for e in REGISTRY.values():
        print(f"  {e.path}  {e.size:>9d} B  sha256 {e.sha256[:12]}…")
    return 0


def _data_verify(a: argparse.Namespace) -> int:
    from carbonlab.data.registry import data_dir, unknown_files, verify

    root = data_dir(a.data_dir)
    res = verify(root)
    print(res.to_string(index=False))
    extra = unknown_files(root)
    if extra:
        print(f"{len(extra)} file(s) not in the registry (not checked, read by no loader): "
              + ", ".join(extra))
    bad = res[~res["ok"]]
    if len(bad):
        raise CarbonlabError(f"{len(bad)} file(s) failed verification: "
                             + ", ".join(bad["path"].astype(str)))
    return 0


def _data_fetch(a: argparse.Namespace) -> int:
    from carbonlab.data.registry import fetch

    dest = a.dest or os.environ.get("CARBONLAB_DATA_DIR")
    if not dest:
        raise CarbonlabError("fetch: give --dest or set CARBONLAB_DATA_DIR")
    check_writable_dir(Path(dest), "fetch --dest")
    import pooch

    pooch.get_logger().setLevel("WARNING")  # no "Downloading..." before an error line
    for p in fetch(Path(dest)):
        print(p)
    return 0


def _data_teaching(a: argparse.Namespace) -> int:
    from carbonlab import synth
    from carbonlab.data import teaching_dir

    folder = teaching_dir()
    if not a.write and not folder.is_dir():
        raise CarbonlabError(f"teaching panel folder {folder} does not exist "
                             "(check CARBONLAB_TEACHING_DIR)")
    if a.write:
        check_writable_dir(folder, "teaching --write")
        for p in synth.write(teaching_dir()):
            print(p)
        return 0
    rendered = synth.render(folder=teaching_dir())
    diff = [n for n, b in rendered.items() if not (teaching_dir() / n).is_file()
            or (teaching_dir() / n).read_bytes() != b]
    if diff:
        print("differs from the generator: " + ", ".join(diff))
        return 1
    print(f"teaching panel reproduced byte for byte ({len(rendered)} files)")
    return 0


def _cmd_student(a: argparse.Namespace) -> int:
    from carbonlab.course import student_edition

    student_edition(a.dir)
    return 0


def _cmd_pdf(a: argparse.Namespace) -> int:
    from carbonlab.course import book_pdf

    for p in book_pdf(a.html, a.out):
        print(p)
    return 0


def _cmd_leap(a: argparse.Namespace) -> int:
    from carbonlab import leap
    from carbonlab.data import load_cities

    cities = load_cities(a.dataset)
    run = leap.run_city(leap.with_nowcast(cities, a.dataset), a.city, horizon_end=a.horizon_end,
                        fast=True)
    print(leap.export_workbook(run, a.output))
    return 0


def _cmd_batch(a: argparse.Namespace) -> int:
    from carbonlab.batch import run_batch_command

    return run_batch_command(a)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``carbonlab`` command; returns the exit code.

    Bad input: one line on stderr, exit 2. Ctrl-C: exit 130; SIGTERM: exit 143 — in
    both cases running kernels are killed and nothing half-written is left.
    """
    try:
        from carbonlab.runner import Interrupted, terminate_on_sigterm
    except KeyboardInterrupt:  # Ctrl-C in the first second, while importing
        sys.stderr.write("carbonlab: interrupted\n")
        return 130
    try:
        with terminate_on_sigterm():
            a = _parser().parse_args(argv)
            return {"book": _cmd_book, "run": _cmd_run, "regions": _cmd_regions,
                    "data": _cmd_data, "batch": _cmd_batch, "leap": _cmd_leap,
                    "student-edition": _cmd_student, "pdf": _cmd_pdf}[a.command](a)
    except CarbonlabError as exc:
        msg = str(exc).strip()
        first, _, rest = msg.partition("\n")
        sys.stderr.write(f"carbonlab: error: {first}\n")
        if rest:  # build logs etc. go after the one-line summary
            sys.stderr.write(rest + "\n")
        return 2
    except Interrupted:
        sys.stderr.write("carbonlab: terminated\n")
        return 143
    except KeyboardInterrupt:
        sys.stderr.write("carbonlab: interrupted\n")
        return 130
    except OSError as exc:  # a file system refusal we did not foresee: one line, not a trace
        sys.stderr.write(f"carbonlab: error: {exc}\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
