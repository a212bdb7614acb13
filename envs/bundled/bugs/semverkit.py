# ruff: noqa: E501 -- verbatim source lines and issue text
"""Bugs in semverkit (semantic versions, constraints, resolver)."""

from bugs import Bug, Edit

LIB = "semverkit"

BUGS = [
    Bug(
        LIB,
        "prerelease-numeric-order",
        "easy",
        "wrong-comparison",
        (
            Edit(
                "semverkit/version.py",
                '    if isinstance(ident, int):\n        return (0, ident, "")\n',
                "    if isinstance(ident, int):\n        return (0, 0, str(ident))\n",
            ),
        ),
        """from semverkit import Constraint, Version


def test_numeric_prerelease_identifiers_compare_numerically():
    assert Version.parse("1.0.0-rc.9") < Version.parse("1.0.0-rc.10")
    assert Version.parse("2.0.0-beta.2") < Version.parse("2.0.0-beta.11")


def test_sorting_release_candidates():
    texts = ["1.0.0-rc.10", "1.0.0-rc.2", "1.0.0-rc.1", "1.0.0"]
    ordered = [str(v) for v in sorted(Version.parse(t) for t in texts)]
    assert ordered == ["1.0.0-rc.1", "1.0.0-rc.2", "1.0.0-rc.10", "1.0.0"]


def test_best_prerelease_is_highest_number():
    versions = [Version.parse(t) for t in ["3.1.0-rc.9", "3.1.0-rc.12"]]
    assert str(Constraint(">=3.1.0-rc.1").best(versions)) == "3.1.0-rc.12"
""",
        """Release candidate 10 sorts before release candidate 9

We tag release candidates as `X.Y.Z-rc.N`. Once we got past `rc.9`, our release tooling started
picking the wrong "latest" candidate:

```python
>>> from semverkit import Version
>>> Version.parse("1.0.0-rc.10") > Version.parse("1.0.0-rc.9")
False
>>> sorted(Version.parse(v) for v in ["1.0.0-rc.10", "1.0.0-rc.2"])
[Version('1.0.0-rc.10'), Version('1.0.0-rc.2')]
```

The semver spec says identifiers consisting of only digits are compared numerically, so `rc.10`
should be greater than `rc.9` and `rc.2`. Alphanumeric ordering (`alpha` < `beta`) still seems fine.
""",
    ),
    Bug(
        LIB,
        "caret-zero-partial",
        "medium",
        "wrong-condition",
        (
            Edit(
                "semverkit/constraint.py",
                "    if major > 0 or minor is None:\n        high = Version(major + 1, 0, 0, (0,))\n",
                "    if major > 0 or patch is None:\n        high = Version(major + 1, 0, 0, (0,))\n",
            ),
        ),
        """from semverkit import Constraint, Version


def test_caret_zero_minor_partial():
    c = Constraint("^0.2")
    assert c.allows(Version.parse("0.2.9"))
    assert not c.allows(Version.parse("0.3.0"))
    assert not c.allows(Version.parse("0.9.0"))


def test_caret_zero_zero_partial():
    c = Constraint("^0.0")
    assert c.allows(Version.parse("0.0.5"))
    assert not c.allows(Version.parse("0.1.0"))


def test_caret_major_partial_still_works():
    c = Constraint("^1")
    assert c.allows(Version.parse("1.9.0"))
    assert not c.allows(Version.parse("2.0.0"))
""",
        """`^0.2` accepts 0.9.0

For 0.x libraries a caret range is supposed to only allow changes that do not modify the left-most
non-zero part. With the full form that works:

```python
>>> from semverkit import Constraint
>>> "0.9.0" in Constraint("^0.2.0")
False
```

but with the short form that many of our manifests use, it lets in breaking versions:

```python
>>> "0.9.0" in Constraint("^0.2")
True
>>> "0.5.1" in Constraint("^0.0")
True
```

Expected: `^0.2` means `>=0.2.0 <0.3.0`, and `^0.0` means `>=0.0.0 <0.1.0`.
""",
    ),
    Bug(
        LIB,
        "tilde-major-only",
        "easy",
        "unhandled-edge-case",
        (
            Edit(
                "semverkit/constraint.py",
                "    if minor is None:\n        high = Version(major + 1, 0, 0, (0,))\n"
                "    else:\n        high = Version(major, minor + 1, 0, (0,))\n",
                "    high = Version(major, (minor or 0) + 1, 0, (0,))\n",
            ),
        ),
        """from semverkit import Constraint, Version


def test_tilde_major_only_allows_any_minor():
    c = Constraint("~1")
    assert c.allows(Version.parse("1.0.0"))
    assert c.allows(Version.parse("1.5.2"))
    assert not c.allows(Version.parse("2.0.0"))


def test_tilde_major_x():
    assert Constraint("~2.x").allows(Version.parse("2.7.0"))
""",
        """`~1` only matches 1.0.x

According to the usual range semantics, `~1` is the same as `1.x` (`>=1.0.0 <2.0.0`): with only a
major version given, tilde allows minor-level changes. semverkit treats it as `~1.0`:

```python
>>> from semverkit import Constraint
>>> "1.5.2" in Constraint("~1")
False
>>> "1.5.2" in Constraint("1.x")
True
```

Expected `True` for both.
""",
    ),
    Bug(
        LIB,
        "bump-patch-prerelease",
        "easy",
        "wrong-logic",
        (
            Edit(
                "semverkit/version.py",
                "        # A pre-release of x.y.z is released as x.y.z itself.\n"
                "        if self.prerelease:\n"
                "            return Version(self.major, self.minor, self.patch)\n",
                "",
            ),
        ),
        """from semverkit import Version


def test_bump_patch_releases_prerelease():
    assert str(Version.parse("1.2.3-rc.1").bump_patch()) == "1.2.3"


def test_bump_patch_drops_build():
    assert str(Version.parse("1.2.3-beta+sha.1").bump_patch()) == "1.2.3"


def test_bump_patch_release_unchanged_behaviour():
    assert str(Version.parse("1.2.3+sha.1").bump_patch()) == "1.2.4"
""",
        """bump_patch on a release candidate skips a version

Our release script does `Version.parse(current).bump_patch()` to finalize a candidate. For
`1.2.3-rc.1` it produces `1.2.4`, so version 1.2.3 is never released:

```python
>>> from semverkit import Version
>>> Version.parse("1.2.3-rc.1").bump_patch()
Version('1.2.4')
```

`bump_minor()` and `bump_major()` already do the right thing for pre-releases
(`Version.parse("1.3.0-rc.1").bump_minor()` gives `1.3.0`). For a pre-release, I expect
`bump_patch()` to give `1.2.3`.
""",
    ),
    Bug(
        LIB,
        "hyphen-partial-upper",
        "medium",
        "off-by-one",
        (
            Edit(
                "semverkit/constraint.py",
                '        comparators.append(Comparator("<", Version(high_major, high_minor + 1, 0, (0,))))\n',
                '        comparators.append(Comparator("<=", Version(high_major, high_minor, 0)))\n',
            ),
        ),
        """from semverkit import Constraint, Version


def test_hyphen_range_partial_upper_includes_whole_minor():
    c = Constraint("1.0.0 - 2.3")
    assert c.allows(Version.parse("2.3.0"))
    assert c.allows(Version.parse("2.3.7"))
    assert not c.allows(Version.parse("2.4.0"))


def test_hyphen_range_major_upper():
    c = Constraint("1.0.0 - 2")
    assert c.allows(Version.parse("2.9.9"))
    assert not c.allows(Version.parse("3.0.0"))
""",
        """Hyphen range with a partial upper bound rejects patch releases

```python
>>> from semverkit import Constraint
>>> "2.3.7" in Constraint("1.0.0 - 2.3")
False
>>> "2.3.0" in Constraint("1.0.0 - 2.3")
True
```

A partial version on the right-hand side of a hyphen range should include every version it
matches: `1.0.0 - 2.3` means `>=1.0.0 <2.4.0`, so 2.3.7 is allowed. A major-only upper bound
(`1.0.0 - 2`) behaves correctly.
""",
    ),
    Bug(
        LIB,
        "resolver-backtrack-leak",
        "hard",
        "state-bug",
        (
            Edit(
                "semverkit/resolver.py",
                "        other.requirements = {name: list(cons) for name, cons in self.requirements.items()}\n",
                "        other.requirements = dict(self.requirements)\n",
            ),
        ),
        """from semverkit import Registry, resolve


def registry():
    return Registry(
        {
            "api": {"1.0.0": {"json": "^1.0.0"}, "2.0.0": {"json": "^2.0.0"}},
            "cli": {"1.0.0": {"json": "^1.0.0"}},
            "json": {"1.0.0": {}, "1.4.0": {}, "2.0.0": {}},
        }
    )


def test_backtracking_with_direct_requirement():
    result = resolve(registry(), {"api": "*", "cli": "*", "json": "*"})
    assert {k: str(v) for k, v in result.items()} == {"cli": "1.0.0", "json": "1.4.0", "api": "1.0.0"}


def test_failed_branch_does_not_constrain_sibling():
    result = resolve(registry(), {"json": ">=1.0.0", "api": "*", "cli": "1.0.0"})
    assert str(result["api"]) == "1.0.0"
""",
        """resolve() fails when a package is also a direct requirement

The resolver normally finds a working combination by falling back to older versions:

```python
>>> from semverkit import Registry, resolve
>>> reg = Registry({
...     "api": {"1.0.0": {"json": "^1.0.0"}, "2.0.0": {"json": "^2.0.0"}},
...     "cli": {"1.0.0": {"json": "^1.0.0"}},
...     "json": {"1.0.0": {}, "1.4.0": {}, "2.0.0": {}},
... })
>>> resolve(reg, {"api": "*", "cli": "*"})
{'api': Version('1.0.0'), 'cli': Version('1.0.0'), 'json': Version('1.4.0')}
```

But if I also list `json` in my own requirements (with any range, even `*`), it gives up:

```python
>>> resolve(reg, {"api": "*", "cli": "*", "json": "*"})
semverkit.errors.ResolutionError: no versions satisfy: api *, cli *, json *
```

Adding a requirement that every candidate satisfies should not change the result; expected
api 1.0.0, cli 1.0.0, json 1.4.0.
""",
    ),
    Bug(
        LIB,
        "prerelease-opt-in-ignored",
        "medium",
        "dropped-argument",
        (
            Edit(
                "semverkit/constraint.py",
                "        return [v for v in versions if self.allows(v, include_prerelease)]\n",
                "        return [v for v in versions if self.allows(v)]\n",
            ),
            Edit(
                "semverkit/resolver.py",
                "        if all(c.allows(version, include_prerelease=allow_pre) for c in constraints)\n",
                "        if all(c.allows(version) for c in constraints)\n",
            ),
        ),
        """from semverkit import Constraint, Registry, Version, resolve


def test_best_with_prereleases_opted_in():
    versions = [Version.parse(t) for t in ["1.0.0", "1.1.0-beta.1"]]
    assert str(Constraint(">=1.0.0").best(versions, include_prerelease=True)) == "1.1.0-beta.1"
    assert str(Constraint(">=1.0.0").best(versions)) == "1.0.0"


def test_filter_with_prereleases_opted_in():
    versions = [Version.parse(t) for t in ["2.0.0-alpha", "1.5.0"]]
    assert len(Constraint("*").filter(versions, include_prerelease=True)) == 2


def test_resolve_allow_prerelease():
    reg = Registry({"p": {"1.0.0": {}, "1.1.0-beta.1": {}}})
    assert str(resolve(reg, {"p": "*"}, allow_prerelease=True)["p"]) == "1.1.0-beta.1"
""",
        """include_prerelease / allow_prerelease have no effect

I want to test our app against the beta of a dependency, so I opted in to pre-releases, but they
are still skipped:

```python
>>> from semverkit import Constraint, Registry, Version, resolve
>>> versions = [Version.parse("1.0.0"), Version.parse("1.1.0-beta.1")]
>>> Constraint(">=1.0.0").best(versions, include_prerelease=True)
Version('1.0.0')
>>> reg = Registry({"p": {"1.0.0": {}, "1.1.0-beta.1": {}}})
>>> resolve(reg, {"p": "*"}, allow_prerelease=True)
{'p': Version('1.0.0')}
```

Expected `1.1.0-beta.1` in both cases. `Constraint(">=1.0.0").allows(Version.parse("1.1.0-beta.1"),
include_prerelease=True)` correctly returns `True`.
""",
    ),
]
