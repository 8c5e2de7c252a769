"""The version of crmcore, read by the build (``pyproject.toml``) and at run time.

A plain constant, so ``crmcore --version`` need not import ``importlib.metadata``.
"""

__version__ = "0.1.0"
