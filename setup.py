"""Declares the optional C extension; everything else about the package lives in pyproject.toml.

``swe_srl._seqmatch`` is an exact, faster drop-in for ``difflib.SequenceMatcher(autojunk=False)``
used by the SRL reward. It is optional: where no C compiler or Python headers exist the build
skips it and ``swe_srl.reward`` uses the pure-Python path (stdlib difflib) with the same results.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("swe_srl._seqmatch", ["swe_srl/_seqmatch.c"], optional=True),
    ]
)
