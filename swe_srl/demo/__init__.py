"""``swe-srl demo``: the whole pipeline on this machine, end to end, in a few minutes of CPU.

Stages, in order (each writes into ``OUT`` and a done-marker ``OUT/stages/<stage>.done.json``):

1. ``validate``  prove every task of the suite in the local sandbox (tests fail with the bug, pass
   with the gold patch);
2. ``import``    normalise the shipped expert trajectories (``trajectories/``);
3. ``steps``     cut them into SRL step instances (train / validation split by trajectory);
4. ``model``     build the tiny offline model (random Qwen2 + a tokenizer trained on our text);
5. ``sft``       a short supervised warm-up on the expert steps (teaches the output format);
6. ``srl``       a short SRL run (GRPO with the step reward and dynamic sampling) from the warm-up;
7. ``score``     per-instance held-out step rewards of the initial, SFT and SRL models;
8. ``eval-gold`` / ``eval-noop`` / ``eval-trained``: resolve rate of the gold patch, of doing
   nothing, and of the trained model (``hf:OUT/train/srl/final``, on a subset: see below);
9. ``report``    tables, PNGs and ``OUT/report/report.html``.

A rerun skips every stage whose marker and outputs exist; a failed stage stops the demo with the
reason, and the next run starts again at that stage. The eval stages resume task by task.
The trained model is evaluated on the first task of each repository only (a tiny model from a few
minutes of CPU training resolves nothing; a full suite would only spend time showing it again).
"""

from __future__ import annotations

from swe_srl.demo.runner import DEFAULT_OUT, DemoConfig, DemoError, DemoResult, print_summary, run_demo

__all__ = ["DEFAULT_OUT", "DemoConfig", "DemoError", "DemoResult", "print_summary", "run_demo"]
