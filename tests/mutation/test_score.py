"""The mutation score report (mutation/score.py): parsing mutmut's result lines, the score per
module and the modules under the target, on result lines of the shape mutmut 3.8 prints."""

from __future__ import annotations

from collections import Counter

import pytest

from mutation.score import below_target, killed_share, module_of, parse_results, scores, table

LINES = """\
    audit.log.x_verify__mutmut_1: killed
    audit.log.xǁAuditLogǁappend__mutmut_2: survived
    audit.log.x_verify__mutmut_3: timeout
    kernel.twid.x_age_band_of__mutmut_1: no tests
    kernel.twid.x_age_band_of__mutmut_2: killed
    kernel.twid.x__weighted__mutmut_5: segfault
    kernel.twid.x__weighted__mutmut_6: suspicious
    kernel.twid.x__weighted__mutmut_7: killed
Running stats...
""".splitlines()


@pytest.mark.parametrize(
    ("name", "module"),
    [("audit.log.x_verify__mutmut_3", "audit.log"),
     ("audit.log.xǁAuditLogǁappend__mutmut_1", "audit.log"),
     ("masking.recognizers.ids.x__digits__mutmut_12", "masking.recognizers.ids")],
)  # fmt: skip
def test_module_of_a_mutant(name: str, module: str) -> None:
    """The module is the name up to its function part, methods included."""
    assert module_of(name) == module


def test_module_of_refuses_other_names() -> None:
    """A name without a function part is not a mutant."""
    with pytest.raises(ValueError, match=r"^not a mutmut mutant name: 'audit.log'$"):
        module_of("audit.log")


def test_results_parsed_and_scored_per_module() -> None:
    """Every result line counts once; killed, timeout and segfault count as killed."""
    results = parse_results(LINES)
    assert len(results) == 8
    assert results[1] == ("audit.log", "audit.log.xǁAuditLogǁappend__mutmut_2", "survived")
    by_module = scores(results)
    assert list(by_module) == ["audit.log", "kernel.twid"]
    assert by_module["audit.log"] == Counter({"killed": 1, "survived": 1, "timeout": 1})
    assert killed_share(by_module["audit.log"]) == pytest.approx(2 / 3)
    assert killed_share(by_module["kernel.twid"]) == pytest.approx(3 / 5)
    assert killed_share(Counter()) == 0.0


def test_table_and_target() -> None:
    """One row per module and a total; modules under 85 % are named with their score."""
    by_module = scores(parse_results(LINES))
    assert table(by_module)[2:] == [
        "| audit.log | 3 | 1 | 1 | 1 | 0 | 0 | 66.7% |",
        "| kernel.twid | 5 | 3 | 0 | 0 | 1 | 1 | 60.0% |",
        "| **all** | 8 | 4 | 1 | 1 | 1 | 1 | 62.5% |",
    ]
    assert below_target(by_module) == ["audit.log 66.7%", "kernel.twid 60.0%"]
    full = scores([("a.b", "a.b.x_f__mutmut_1", "killed")] * 17 + [("a.b", "x", "survived")] * 3)
    assert below_target(full) == []
