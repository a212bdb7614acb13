"""This machine's pip configuration, carried into an environment build (and nowhere else).

pip here may be configured by files (``/etc/pip.conf``, ``~/.config/pip/pip.conf``...) and by
variables (``PIP_*``, ``SSL_CERT_*``, ``REQUESTS_CA_BUNDLE``, proxies): an index or proxy of its own,
a CA, constraints, extra find-links. A build runs pip inside the environment's root filesystem, so
that configuration is read at build time, merged into one file the build's pip reads through
``PIP_CONFIG_FILE``, and every local path it names (certificate bundles, wheel folders, ``file://``
indexes) is bound read-only at the same path. Nothing of it is written into the repository, into a
built environment, or into a sandbox.
"""

from __future__ import annotations

import configparser
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

_VARIABLE_PREFIXES = ("PIP_",)
_VARIABLES = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
)
_SKIPPED = {"PIP_CONFIG_FILE", "PIP_TARGET", "PIP_PREFIX", "PIP_USER", "PIP_REQUIRE_VIRTUALENV"}
_PATHS = re.compile(r"(?:file://)?(/[^\s'\",;]+)")


@dataclass(frozen=True)
class PipConfig:
    """pip's effective configuration on this machine, ready to carry into a build."""

    text: str  # one merged pip.conf
    variables: dict[str, str]  # environment variables to set in the build
    paths: tuple[str, ...]  # local files and folders the configuration names (bound read-only)


def config_files(environ: dict[str, str]) -> list[Path]:
    """pip's configuration files in the order pip reads them (later ones override earlier ones)."""
    home = Path(environ.get("HOME") or Path.home())
    xdg_dirs = environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(":")
    files = [Path(d) / "pip" / "pip.conf" for d in xdg_dirs if d]
    files += [Path("/etc/pip.conf"), home / ".pip" / "pip.conf"]
    files.append(Path(environ.get("XDG_CONFIG_HOME", home / ".config")) / "pip" / "pip.conf")
    if environ.get("PIP_CONFIG_FILE") and environ["PIP_CONFIG_FILE"] != os.devnull:
        files.append(Path(environ["PIP_CONFIG_FILE"]))
    return [f for f in files if f.is_file()]


def read_pip_config(environ: dict[str, str] | None = None) -> PipConfig:
    """Merge pip's configuration files and pick the variables that configure pip and TLS."""
    environ = dict(os.environ if environ is None else environ)
    merged = configparser.RawConfigParser()
    merged.read([str(f) for f in config_files(environ)])
    buffer = io.StringIO()
    merged.write(buffer)
    variables = {
        k: v
        for k, v in environ.items()
        if (k.startswith(_VARIABLE_PREFIXES) or k in _VARIABLES) and k not in _SKIPPED
    }
    values = [v for section in merged.sections() for v in merged[section].values()]
    values += list(variables.values())
    found = {m.rstrip("/") for value in values for m in _PATHS.findall(value)}
    # A local "simple" index links to files beside it (``<root>/files``): carry the whole index root.
    found = {str(Path(m).parent) if Path(m).name == "simple" else m for m in found}
    paths = sorted(m for m in found if os.path.exists(m))
    return PipConfig(text=buffer.getvalue(), variables=variables, paths=tuple(paths))
