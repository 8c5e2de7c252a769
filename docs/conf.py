"""Sphinx configuration for the crmcore documentation.

Build the site with ``sphinx-build -W --keep-going -b html docs docs/_build/html``
and run the examples with ``sphinx-build -W -b doctest docs docs/_build/doctest``.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
# crmcore is normally installed (``pip install -e .``); the source tree is a fallback.
sys.path.append(str(DOCS.parent / "src"))

import crmcore  # noqa: E402

project = "crmcore"
author = "crmcore developers"
copyright = "crmcore developers"
release = crmcore.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "hookref",
    "apicheck",
    "clihelp",
    "flowdiagram",
]

exclude_patterns = ["_build"]
templates_path: list[str] = []
html_static_path: list[str] = []
html_theme = "alabaster"
html_title = f"crmcore {release}"
language = "en"
# Translations (Sphinx i18n): docs/locale/<language>/LC_MESSAGES/<document>.po, one per
# document; build one with ``sphinx-build -D language=zh_CN``. Refresh the templates with
# ``sphinx-build -b gettext docs docs/_build/gettext``.
locale_dirs = ["locale/"]
gettext_compact = False
nitpicky = False

# -- autodoc ---------------------------------------------------------------------
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
autodoc_class_signature = "mixed"
autodoc_default_options = {"members": True}
# The public API is what ``crmcore.__all__`` names; hookref checks that every
# one of them is documented somewhere (see ``crmcore_public_modules``).
crmcore_public_modules = [
    "crmcore", "crmcore.model", "crmcore.demo", "crmcore.service", "crmcore.grading",
    "crmcore.transitions", "crmcore.lifecycle", "crmcore.policies", "crmcore.testing",
    "crmcore.improvement", "crmcore.daily",
    "crmcore_plugins.clv", "crmcore_plugins.erp",
]
