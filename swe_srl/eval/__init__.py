"""Evaluation: grade patches SWE-bench style, run policies over suites, report resolve rates.

Entry points: ``SandboxGrader`` (``grader.py``), ``run_eval`` / ``EvalConfig`` (``runner.py``),
``build_suite_images`` (``images.py``), ``export_dataset`` / ``run_official_evaluation``
(``swebench_export.py``).
"""
