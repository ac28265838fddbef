"""carbonlab.plotting: the figure style helpers and the output-hygiene helpers."""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from carbonlab import plotting  # noqa: E402
from carbonlab._util import ParameterError  # noqa: E402


@pytest.mark.parametrize("n", [1, 8, 9, 14, 20, 26, 60])
def test_palette_has_n_distinct_colours(n):
    colours = plotting.palette(n)
    assert len(colours) == n and len(set(colours)) == n


def test_palette_refuses_too_many_series():
    with pytest.raises(ParameterError, match="small_multiples"):
        plotting.palette(61)


def test_year_axis_has_integer_ticks():
    fig, ax = plotting.new_figure()
    ax.plot(np.arange(2005, 2022), np.arange(17.0))
    plotting.year_axis(ax)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and all(lab.isdigit() and 2000 <= int(lab) <= 2025 for lab in labels), labels
    matplotlib.pyplot.close(fig)


def test_legend_outside_sits_beside_the_axes():
    fig, ax = plotting.new_figure()
    for i in range(3):
        ax.plot([0, 1], [i, i + 1], label=f"s{i}")
    leg = plotting.legend_outside(ax)
    fig.canvas.draw()
    box = leg.get_window_extent()
    assert box.x0 >= ax.get_window_extent().x1
    matplotlib.pyplot.close(fig)


def test_small_multiples_hides_spare_panels():
    fig, axes = plotting.small_multiples(5, ncols=3)
    assert len(axes) == 5 and sum(a.get_visible() for a in fig.axes) == 5
    matplotlib.pyplot.close(fig)


def test_fmt_never_uses_positive_exponents():
    assert plotting.fmt(1.251787) == "1.252"
    assert plotting.fmt(5.23e10) == "52,300,000,000"
    assert plotting.fmt(12150.4) == "12,150"
    assert plotting.fmt(0.0) == "0" and plotting.fmt(float("nan")) == "–"
    assert plotting.fmt(True) == "yes" and plotting.fmt(2030) == "2030"
    assert plotting.fmt(3.14159, 2) == "3.14"
    assert plotting.fmt(-0.0001, 3) == "0.000" and plotting.fmt(-0.25, 1) == "-0.2"


def test_header_adds_units():
    assert plotting.header("peak_mt") == "peak (Mt CO2)"
    assert plotting.header("cef_tco2_per_tj") == "cef (t CO2/TJ)"
    assert plotting.header("p_by_2030") == "P(peak ≤ 2030)"
    assert plotting.header("x", units={"x": "kg"}) == "x (kg)"


def test_show_table_formats_without_scientific_notation():
    df = pd.DataFrame({"region": ["A", "B"], "peak_year": [2025, 2030],
                       "peak_mt": [1234.5678, 5.23e10], "p_by_2030": [0.5, np.nan],
                       "peaked": [True, False]})
    html = plotting.show_table(df, precision=1).to_html()
    assert "e+" not in html and "52,300,000,000.0" in html and "1,234.6" in html
    assert "peak (Mt CO2)" in html and "P(peak ≤ 2030)" in html and "2,025" not in html
    assert ">yes<" in html and "–" in html


def test_show_table_folds_long_tables():
    df = pd.DataFrame({"x": np.arange(40.0)})
    out = plotting.show_table(df, max_rows=15, head=5)
    assert isinstance(out, plotting.FoldedTable)
    html = out._repr_html_()
    assert "<details" in html and "All 40 rows" in html


def test_glue_result_glues_scalar_fields(monkeypatch):
    glued = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: glued.setdefault(name, value))

    @dataclasses.dataclass
    class Result:
        peak_year: int
        peak_value: float
        peaked: bool
        table: pd.DataFrame

    out = plotting.glue_result("pk", Result(np.int64(2029), np.float64(12150.0), True, pd.DataFrame()))
    assert out == {"pk_peak_year": 2029, "pk_peak_value": 12150.0, "pk_peaked": True}
    assert glued == out and type(glued["pk_peak_year"]) is int
    with pytest.raises(ParameterError, match="no field"):
        plotting.glue_result("pk", Result(1, 1.0, True, pd.DataFrame()), fields=["nope"])


def test_chinese_text_renders_with_the_cjk_font_when_installed():
    import warnings

    if plotting._cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    plotting.use_style()
    fig, ax = plotting.new_figure(figsize=(3, 2))
    ax.set_title("宁夏 1 亿t = 100 Mt")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would raise
        fig.canvas.draw()
    matplotlib.pyplot.close(fig)


def test_plain_log_axis_labels_without_powers_of_ten():
    """Log axes read 0.2, 0.5, 1 (chapter 3's Fig. 13 showed 2×10⁻¹)."""
    import matplotlib.pyplot as plt

    from carbonlab.plotting import new_figure, plain_log_axis

    fig, ax = new_figure()
    ax.plot([1, 2, 3], [0.15, 0.6, 40.0])
    plain_log_axis(ax, "y")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    plt.close(fig)
    assert ax.get_yscale() == "log"
    assert labels and all("10" not in lab or lab.replace(",", "").isdigit() for lab in labels)
    assert "0.2" in labels and "1" in labels
    with pytest.raises(ParameterError, match="axis must be"):
        plain_log_axis(ax, "z")


def test_every_plot_function_takes_axes():
    """House style: every public ``plot_*`` of the package draws into ``ax`` (or ``axes``
    for multi-panel figures) when given one."""
    import importlib
    import inspect
    import pkgutil

    import carbonlab

    missing = []
    for info in pkgutil.walk_packages(carbonlab.__path__, "carbonlab."):
        if info.name.endswith("__main__"):  # importing it runs the CLI
            continue
        mod = importlib.import_module(info.name)
        for name, fn in vars(mod).items():
            if (name.startswith("plot_") and inspect.isfunction(fn)
                    and fn.__module__ == mod.__name__):
                params = inspect.signature(fn).parameters
                if not ({"ax", "axes"} & set(params)):
                    missing.append(f"{mod.__name__}.{name}")
    assert not missing, f"plot functions without ax/axes: {missing}"
