"""`python -m bench.compare`: the medians of two revisions' figures, flagged past 5%."""
from bench.compare import compared_keys, flatten, report


def test_tuples_are_spread_and_ratios_are_preferred_to_other_figures():
    figures = flatten({"10": [53000.0, 30000.0], "ratio_median": 0.61, "errors": 0, "mode": "lean"})
    assert figures == {"10[0]": 53000.0, "10[1]": 30000.0, "ratio_median": 0.61, "errors": 0, "mode": "lean"}
    assert compared_keys([figures]) == ["ratio_median"]
    assert compared_keys([{"seconds": 1.5, "mode": "lean", "ok": True}]) == ["seconds"]


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
