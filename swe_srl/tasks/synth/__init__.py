"""Tasks from real projects: ``synth`` (procedural bugs their own tests catch) and ``mine`` (real fixes).

``project`` (a pinned PyPI sdist and its environment) → ``pipeline`` (mutations from ``mutations``,
kept by running the project's tests through the one test runner, ``runs``; statements from
``statement``) or ``mine`` (real fixes between releases) → ``suite`` (rows merged into a suite
folder's ``tasks.jsonl``).
"""
