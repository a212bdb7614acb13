"""Bad-input fuzzing: only typed errors (``swe_srl.records.SweSrlError``) may escape.

Each target runs twice: a quick pass in the default suite (``QUICK_EXAMPLES``) and a long pass
marked ``fuzz`` with ``SWE_SRL_FUZZ_EXAMPLES`` examples (``make fuzz``: 10,000). Long passes are
deselected unless the ``-m`` expression names ``fuzz``.
"""

from __future__ import annotations


def pytest_collection_modifyitems(config, items):
    if "fuzz" in (config.getoption("markexpr") or ""):
        return
    deselected = [item for item in items if "fuzz" in item.keywords and item.get_closest_marker("fuzz")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]
