"""The package index's host names, taken out of unpacked source trees before a suite ships them.

Upstream sdists name the index they are published on (``PKG-INFO``'s project URLs, README badges,
release notes, ``docs/conf.py``). A suite built from them must not carry a package registry's host
name, so every unpacked tree is redacted as it is unpacked:

- **which hosts**: the index as pip knows it at run time, never a list written here: pip's own
  default index and file-storage hosts (``pip._internal.models.index``: the live and the test index)
  with every subdomain of their domains, the index's former host under the language's site (which
  now redirects to the current one), and the host of every index or find-links URL this machine's
  pip configuration names (``pipconf.py``);
- **text files** (valid UTF-8): each such host is replaced by :data:`PLACEHOLDER`, a reserved
  ``.invalid`` name, so URLs stay well-formed (``https://<placeholder>/project/NAME/``). Builds and
  tests never read these hosts: metadata versions, README text and docs keep working;
- **any other file** naming one is removed (its bytes cannot be edited without corrupting it).

What was changed is returned for the suite to record (``envs/pypi/redactions.json``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PLACEHOLDER = "package-index.invalid"
_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE)


@dataclass(frozen=True)
class Redaction:
    """One file of a tree: how many host names were replaced, or ``removed`` (not text)."""

    path: str  # relative to the tree
    replaced: int = 0
    removed: bool = False


def _domain(host: str) -> str:
    """``host`` without its first label when it has three or more (``files.x.org`` -> ``x.org``)."""
    labels = host.split(".")
    return ".".join(labels[1:]) if len(labels) > 2 else host


@functools.cache
def index_hosts() -> tuple[str, ...]:
    """The package index's host names and domains, as pip knows them here (see the module docstring)."""
    from pip._internal.models.index import PyPI, TestPyPI

    from swe_srl.environments.pipconf import read_pip_config

    hosts = {PyPI.netloc, _domain(PyPI.file_storage_domain)}
    hosts |= {TestPyPI.netloc, _domain(TestPyPI.file_storage_domain)}
    name = PyPI.netloc.split(".")[0]
    hosts.add(f"{name}.python.org")  # the index's former host
    config = read_pip_config()
    for value in [config.text, *config.variables.values()]:
        hosts |= {urlsplit(url).hostname or "" for url in _URL.findall(value)}
    hosts.discard("")
    return tuple(sorted(h.lower() for h in hosts))


@functools.cache
def host_pattern() -> re.Pattern[str]:
    """Any of :func:`index_hosts`, with any subdomain, as a whole host name."""
    names = "|".join(re.escape(h) for h in sorted(index_hosts(), key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9.-])(?:[A-Za-z0-9-]+\.)*(?:{names})(?![A-Za-z0-9-])", re.IGNORECASE)


def redact_text(text: str) -> tuple[str, int]:
    """``text`` with every index host replaced by :data:`PLACEHOLDER`, and how many were."""
    return host_pattern().subn(PLACEHOLDER, text)


def names_a_host(data: bytes) -> bool:
    """Whether ``data`` (any file's bytes) holds an index host name."""
    return host_pattern().search(data.decode("latin-1")) is not None


def redact_tree(tree: Path) -> list[Redaction]:
    """Redact every file of ``tree`` in place (idempotent); return what changed, sorted by path."""
    changed = []
    for path in sorted(p for p in tree.rglob("*") if p.is_file() and not p.is_symlink()):
        data = path.read_bytes()
        if not names_a_host(data):
            continue
        rel = path.relative_to(tree).as_posix()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            path.unlink()
            changed.append(Redaction(rel, removed=True))
            continue
        new, count = redact_text(text)
        path.write_bytes(new.encode("utf-8"))
        changed.append(Redaction(rel, replaced=count))
    return changed
