"""What running a task's tests needs, as one small typed record: :class:`TestRunSpec`.

The one test runner (``testrun.py``: ``tasks validate``, the grader and ``replay-check``) takes
everything from this record: the test command, the swebench log parser, extra environment variables,
the pytest plugins to load by name, the test directives and the timeout. :meth:`TestRunSpec.from_task`
builds it from a task; :meth:`TestRunSpec.for_suite` from an environment alone, for a run of a
project's whole test suite (``tasks synth`` and ``tasks mine`` find the passing set that way).

Test directives are what the test command is given to run. As swebench's ``get_test_directives``
does, they are the files the test patch adds or changes (minus data files; Django's runner gets
dotted module names); for pytest-style ids (``path.py::name``) the files holding the required tests
are added, so PASS_TO_PASS tests outside the test patch run too. Ids are never taken for paths
otherwise (a Django id such as ``test_x (app.tests.T)`` is not a file).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from swe_srl.records import Task

if TYPE_CHECKING:
    from swe_srl.environments.spec import EnvSpec

DEFAULT_TEST_COMMAND = "python3 -m pytest -rA -p no:cacheprovider"
DEFAULT_TIMEOUT = 300.0
# swebench's NON_TEST_EXTS: files of a test patch that are data, not tests to run.
NON_TEST_EXTS = (".json", ".png", "csv", ".txt", ".md", ".jpg", ".jpeg", ".pkl", ".yml", ".yaml", ".toml")
DJANGO_PARSER = "parse_log_django"
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PYTHON = re.compile(r"^python[0-9.]*$")
_SHELL_WORDS = {"&&", "||", ";", "|", "&", "(", ")", "cd"}


@dataclass(frozen=True)
class PytestCommand:
    """A test command that is a plain pytest run, which the grader can run through its own launcher."""

    interpreter: str  # "" for the ``pytest`` console script (its shebang names the interpreter)
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    repo_on_path: bool = False  # ``python -m pytest`` puts the working directory on sys.path


@dataclass(frozen=True)
class TestRunSpec:
    """How to run one task's tests; see the module docstring."""

    __test__ = False  # not a pytest test class, whatever imports it

    instance_id: str
    test_command: str = DEFAULT_TEST_COMMAND
    log_parser: str = "parse_log_pytest"  # a key of swebench's PARSER_REGISTRY
    directives: tuple[str, ...] = ()
    test_patch: str = ""
    eval_script: str = ""  # the task's own script (swebench 5.x); it replaces the steps above
    env: tuple[tuple[str, str], ...] = ()
    pytest_plugins: tuple[str, ...] = ()  # loaded with -p: plugin auto-loading is off
    timeout: float = DEFAULT_TIMEOUT
    version: str = ""  # the task's version: some swebench parsers depend on it

    @classmethod
    def from_task(cls, task: Task, *, timeout: float = DEFAULT_TIMEOUT) -> TestRunSpec:
        """The record for ``task``; a task over an environment takes the environment's test command,
        log parser, variables and pytest plugins (``swe_srl.environments``)."""
        from swe_srl.environments.reference import spec_for

        environment = spec_for(task)
        command, parser_name = task.test_cmd.strip(), task.log_parser or "pytest"
        env: tuple[tuple[str, str], ...] = ()
        plugins: tuple[str, ...] = ()
        if environment is not None:
            command, parser_name = environment.test_cmd, environment.log_parser
            env, plugins = tuple(environment.env.items()), environment.pytest_plugins
        parser = swebench_log_parser(parser_name)
        return cls(
            instance_id=task.instance_id,
            test_command=command or DEFAULT_TEST_COMMAND,
            log_parser=parser,
            directives=directives_for(task.test_patch, parser, (*task.FAIL_TO_PASS, *task.PASS_TO_PASS)),
            test_patch=task.test_patch,
            eval_script=task.eval_script,
            env=env,
            pytest_plugins=plugins,
            timeout=timeout,
            version=task.version,
        )

    @classmethod
    def for_suite(
        cls,
        environment: EnvSpec,
        *,
        instance_id: str,
        paths: tuple[str, ...] = (),
        options: str = "",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> TestRunSpec:
        """A run of the project's own tests in ``environment``: its test command, parser, variables and
        plugins over ``paths`` (none: what the project's configuration collects), ``options`` added to
        the command (``--tb=short``). No test patch: the tests are the tree's own."""
        command = " ".join(part for part in (environment.test_cmd, options) if part)
        return cls(
            instance_id=instance_id,
            test_command=command or DEFAULT_TEST_COMMAND,
            log_parser=swebench_log_parser(environment.log_parser),
            directives=tuple(paths),
            env=tuple(environment.env.items()),
            pytest_plugins=environment.pytest_plugins,
            timeout=timeout,
            version=environment.version,
        )

    @property
    def pytest(self) -> PytestCommand | None:
        """The test command as a pytest run, or None when it is anything else (``runtests.py``...)."""
        return pytest_command(self.test_command)


def _patch_files(test_patch: str) -> list[str]:
    """Files a patch leaves in the tree (deleted files dropped), by swebench's header pattern."""
    files: list[str] = []
    for section in re.split(r"^(?=diff --git )", test_patch, flags=re.M):
        header = re.match(r"diff --git a/.* b/(.*)$", section, flags=re.M)
        if header is None or re.search(r"^\+\+\+ /dev/null$", section, flags=re.M):
            continue
        files.append(header.group(1))
    return files


def directives_for(test_patch: str, log_parser: str, required: tuple[str, ...] = ()) -> tuple[str, ...]:
    """What the test command is given to run; see the module docstring."""
    files = [f for f in _patch_files(test_patch) if not f.endswith(NON_TEST_EXTS)]
    if log_parser == DJANGO_PARSER:
        dotted = []
        for name in files:
            name = name.removesuffix(".py").removeprefix("tests/")
            dotted.append(name.replace("/", "."))
        return tuple(dict.fromkeys(dotted))
    for test_id in required:
        path, sep, _ = test_id.partition("::")
        if sep and path.endswith(".py"):
            files.append(path)
    return tuple(dict.fromkeys(files))


def pytest_command(command: str) -> PytestCommand | None:
    """``command`` as a pytest run (``[VAR=x] python3 -m pytest ARGS`` or ``pytest ARGS``), else None."""
    try:
        tokens = shlex.split(command)
    except ValueError:
        return None
    env = []
    while tokens and _ASSIGNMENT.match(tokens[0]):
        name, _, value = tokens.pop(0).partition("=")
        env.append((name, value))
    if not tokens or any(t in _SHELL_WORDS or ";" in t for t in tokens):
        return None
    program = tokens[0].rsplit("/", 1)[-1]
    if program in ("pytest", "py.test"):
        return PytestCommand("", tuple(tokens[1:]), tuple(env))
    if _PYTHON.match(program) and tokens[1:3] in (["-m", "pytest"], ["-m", "py.test"]):
        return PytestCommand(tokens[0], tuple(tokens[3:]), tuple(env), repo_on_path=True)
    return None


def swebench_log_parser(name: str) -> str:
    """The swebench ``PARSER_REGISTRY`` key for a ``log_parser`` (``pytest`` → ``parse_log_pytest``)."""
    from swebench.harness.log_parsers import PARSER_REGISTRY

    if name in PARSER_REGISTRY:
        return name
    key = f"parse_log_{name}"
    if key in PARSER_REGISTRY:
        return key
    raise KeyError(f"unknown log parser {name!r}; swebench knows {', '.join(sorted(PARSER_REGISTRY))}")


def swebench_eval_type(name: str) -> str:
    """The swebench ``EvalType`` value for a task's ``eval_type`` (anything unknown grades pass-and-fail)."""
    from swebench.harness.constants import EvalType

    values = {e.value for e in EvalType}
    return name if name in values else EvalType.PASS_AND_FAIL.value
