"""``python -m swe_srl.cli``: the same app as the ``swe-srl`` console script."""

from swe_srl.cli import main

main()
