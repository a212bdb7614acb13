import pytest

from semverkit import InvalidVersion, Version


def test_parse_simple():
    v = Version.parse("1.2.3")
    assert (v.major, v.minor, v.patch) == (1, 2, 3)
    assert v.prerelease == ()


def test_parse_with_v_prefix():
    assert Version.parse("v2.0.1") == Version(2, 0, 1)


def test_parse_prerelease_and_build():
    v = Version.parse("1.0.0-alpha.1+build.5")
    assert v.prerelease == ("alpha", 1)
    assert v.build == ("build", "5")


@pytest.mark.parametrize("text", ["1.2", "01.2.3", "1.2.3-", "1.2.3-01", "a.b.c", ""])
def test_parse_rejects_invalid(text):
    with pytest.raises(InvalidVersion):
        Version.parse(text)


def test_str_round_trip():
    for text in ["0.0.1", "1.2.3-rc.1", "1.2.3+meta", "4.5.6-beta+exp.sha.5114f85"]:
        assert str(Version.parse(text)) == text


def test_ordering_of_cores():
    assert Version.parse("1.2.3") < Version.parse("1.2.4")
    assert Version.parse("1.10.0") > Version.parse("1.9.9")
    assert Version.parse("2.0.0") > Version.parse("1.99.99")


def test_prerelease_sorts_before_release():
    assert Version.parse("1.0.0-alpha") < Version.parse("1.0.0")


def test_prerelease_ordering_from_spec():
    ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-rc.1"]
    versions = [Version.parse(t) for t in ordered]
    assert sorted(reversed(versions)) == versions


def test_build_metadata_ignored_for_equality():
    assert Version.parse("1.0.0+a") == Version.parse("1.0.0+b")
    assert hash(Version.parse("1.0.0+a")) == hash(Version.parse("1.0.0"))


def test_immutable():
    v = Version(1, 2, 3)
    with pytest.raises(AttributeError):
        v.major = 3


def test_negative_rejected():
    with pytest.raises(InvalidVersion):
        Version(-1, 0, 0)


def test_bump_major_minor():
    v = Version.parse("1.2.3")
    assert str(v.bump_major()) == "2.0.0"
    assert str(v.bump_minor()) == "1.3.0"


def test_bump_patch():
    assert str(Version.parse("1.2.3").bump_patch()) == "1.2.4"


def test_bump_prerelease_from_release():
    assert str(Version.parse("1.2.3").bump_prerelease()) == "1.2.4-rc.0"


def test_bump_prerelease_increments():
    assert str(Version.parse("1.2.4-rc.0").bump_prerelease()) == "1.2.4-rc.1"


def test_without_build():
    assert Version.parse("1.2.3+abc").without_build().build == ()


def test_comparison_with_other_type():
    assert Version(1, 0, 0) != "1.0.0"
