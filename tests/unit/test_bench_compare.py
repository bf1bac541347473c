"""`python -m bench.compare`: the medians of two revisions' figures, flagged past 5%."""
import shutil
from pathlib import Path

from bench.compare import ROOT, compared_keys, flatten, report, run_once


def test_tuples_are_spread_and_ratios_are_preferred_to_other_figures():
    figures = flatten({"10": [53000.0, 30000.0], "ratio_median": 0.61, "errors": 0, "mode": "lean"})
    assert figures == {"10[0]": 53000.0, "10[1]": 30000.0, "ratio_median": 0.61, "errors": 0, "mode": "lean"}
    assert compared_keys([figures]) == ["ratio_median"]
    assert compared_keys([{"seconds": 1.5, "mode": "lean", "ok": True}]) == ["seconds"]


def test_figures_per_size_are_spread_over_their_sizes():
    figures = flatten({"1000": {"ratio": 0.42, "peak_rss_mb": 61.0}, "5000": {"ratio": 0.44}})
    assert figures == {"1000.ratio": 0.42, "1000.peak_rss_mb": 61.0, "5000.ratio": 0.44}
    assert compared_keys([figures]) == ["1000.ratio", "5000.ratio"]


def _tree(tmp_path: Path, body: str) -> Path:
    """A revision's tree holding the real ``bench`` package plus one benchmark, ``probe``."""
    package = tmp_path / "bench"
    package.mkdir()
    shutil.copy(ROOT / "bench" / "__init__.py", package / "__init__.py")
    (package / "probe.py").write_text(body)
    return tmp_path


def test_a_run_that_misses_its_requirement_still_gives_its_figures(tmp_path):
    tree = _tree(tmp_path, "from bench import RequirementNotMet\n"
                           "def run(smoke=False):\n"
                           "    raise RequirementNotMet('ratio 0.44 < 0.5', {'ratio_of_copy': 0.44})\n")
    figures, _steal, last = run_once(tree, "probe", smoke=False)
    assert figures == {"ratio_of_copy": 0.44}
    assert last == "MISSED ratio 0.44 < 0.5"


def test_a_run_that_fails_without_figures_gives_none(tmp_path):
    tree = _tree(tmp_path, "def run(smoke=False):\n    raise RuntimeError('the sandbox did not start')\n")
    figures, _steal, last = run_once(tree, "probe", smoke=True)
    assert figures is None
    assert last == "RuntimeError: the sandbox did not start"


def test_a_figure_moved_more_than_5_percent_is_flagged(capsys):
    results = {"main": [{"ratio": 1.00}, {"ratio": 1.02}, {"ratio": 0.98}],
               "branch": [{"ratio": 0.90}, {"ratio": 0.91}, None]}
    assert report("intake", ["main", "branch"], results) is False
    assert "intake.ratio: main 1  branch 0.905  (-9.5%)  > 5%" in capsys.readouterr().out
    results["branch"] = [{"ratio": 0.97}, {"ratio": 1.01}]
    assert report("intake", ["main", "branch"], results) is True


def test_a_revision_without_a_successful_run_is_not_compared(capsys):
    assert report("intake", ["main", "branch"], {"main": [{"ratio": 1.0}], "branch": [None]}) is False
    assert "nothing to compare" in capsys.readouterr().out
