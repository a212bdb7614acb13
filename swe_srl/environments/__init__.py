"""Environments: what a repository version needs to install and run its tests, built once, used everywhere.

``spec`` (the record, read from a suite's ``environments.jsonl``) → ``build`` (a virtual environment
over the base root filesystem, cached by content hash) → used by both sandboxes: bound read-only into
bubblewrap locally (``mount``), or baked into one Docker image per environment (``images``). Tasks
name their environment (``Task.environment``); ``reference`` finds the spec.
"""
