import pytest

from semverkit import Registry, ResolutionError, resolve


def make_registry():
    return Registry(
        {
            "app": {"1.0.0": {"lib": "^1.0.0"}},
            "lib": {"1.0.0": {}, "1.2.0": {"util": "~2.1"}, "2.0.0": {}},
            "util": {"2.1.0": {}, "2.1.5": {}, "2.2.0": {}},
        }
    )


def test_versions_newest_first():
    reg = make_registry()
    assert [str(v) for v in reg.versions("util")] == ["2.2.0", "2.1.5", "2.1.0"]


def test_resolve_prefers_newest():
    result = resolve(make_registry(), {"app": "*"})
    assert {k: str(v) for k, v in result.items()} == {"app": "1.0.0", "lib": "1.2.0", "util": "2.1.5"}


def test_resolve_direct():
    result = resolve(make_registry(), {"lib": ">=2"})
    assert str(result["lib"]) == "2.0.0"


def test_unknown_package():
    with pytest.raises(ResolutionError):
        resolve(make_registry(), {"nope": "*"})


def test_unsatisfiable():
    with pytest.raises(ResolutionError):
        resolve(make_registry(), {"lib": ">=3"})


def test_backtracks_on_conflict():
    reg = Registry(
        {
            "a": {"1.0.0": {"c": "^1.0.0"}, "2.0.0": {"c": "^2.0.0"}},
            "b": {"1.0.0": {"c": "^1.0.0"}},
            "c": {"1.0.0": {}, "2.0.0": {}},
        }
    )
    result = resolve(reg, {"a": "*", "b": "*"})
    assert str(result["a"]) == "1.0.0"
    assert str(result["c"]) == "1.0.0"


def test_dependencies_copy():
    reg = make_registry()
    deps = reg.dependencies("app", reg.versions("app")[0])
    deps["x"] = "1"
    assert "x" not in reg.dependencies("app", reg.versions("app")[0])


def test_prerelease_skipped_by_default():
    reg = Registry({"p": {"1.0.0": {}, "1.1.0-beta.1": {}}})
    assert str(resolve(reg, {"p": "*"})["p"]) == "1.0.0"
