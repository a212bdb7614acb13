import pytest

from semverkit import Constraint, InvalidConstraint, Version


def allows(text, version, **kw):
    return Constraint(text).allows(Version.parse(version), **kw)


def test_exact():
    assert allows("1.2.3", "1.2.3")
    assert not allows("1.2.3", "1.2.4")


def test_greater_equal_and_less():
    assert allows(">=1.2.0 <2.0.0", "1.9.0")
    assert not allows(">=1.2.0 <2.0.0", "2.0.0")
    assert not allows(">=1.2.0 <2.0.0", "1.1.9")


def test_operator_with_space():
    assert allows(">= 1.2.0", "1.3.0")


def test_caret_major():
    assert allows("^1.2.3", "1.9.9")
    assert not allows("^1.2.3", "2.0.0")
    assert not allows("^1.2.3", "1.2.2")


def test_caret_zero_zero():
    assert allows("^0.0.3", "0.0.3")
    assert not allows("^0.0.3", "0.0.4")


def test_tilde_full():
    assert allows("~1.2.3", "1.2.9")
    assert not allows("~1.2.3", "1.3.0")


def test_tilde_minor():
    assert allows("~1.2", "1.2.0")
    assert not allows("~1.2", "1.3.0")


def test_x_range():
    assert allows("1.2.x", "1.2.7")
    assert not allows("1.2.x", "1.3.0")
    assert allows("1.x", "1.9.0")


def test_star_matches_release():
    assert allows("*", "3.4.5")
    assert allows("", "0.0.1")


def test_hyphen_range_full():
    assert allows("1.2.3 - 2.3.4", "2.3.4")
    assert not allows("1.2.3 - 2.3.4", "2.3.5")
    assert not allows("1.2.3 - 2.3.4", "1.2.2")


def test_union():
    assert allows("^1.0.0 || ^3.0.0", "3.1.0")
    assert not allows("^1.0.0 || ^3.0.0", "2.1.0")


def test_prerelease_excluded_by_default():
    assert not allows(">=1.0.0", "1.5.0-beta.1")
    assert allows(">=1.0.0", "1.5.0-beta.1", include_prerelease=True)


def test_partial_less_equal():
    assert allows("<=1.2", "1.2.9")
    assert not allows("<=1.2", "1.3.0")


def test_greater_than_partial():
    assert allows(">1.2", "1.3.0")
    assert not allows(">1.2", "1.2.9")


def test_best_picks_highest():
    versions = [Version.parse(t) for t in ["1.0.0", "1.4.0", "2.0.0", "1.3.9"]]
    assert str(Constraint("^1.0.0").best(versions)) == "1.4.0"


def test_best_none():
    assert Constraint("^5").best([Version(1, 0, 0)]) is None


def test_contains_string():
    assert "1.2.3" in Constraint("~1.2")


def test_invalid_constraint():
    with pytest.raises(InvalidConstraint):
        Constraint(">=banana")


def test_empty_alternative_rejected():
    with pytest.raises(InvalidConstraint):
        Constraint("^1.0.0 ||")
