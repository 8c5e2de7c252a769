"""Packaging step beyond pyproject.toml: compile the message catalogues into the build.

``build_py`` copies ``crmcore/locale/*/LC_MESSAGES/crmcore.po`` with the package and
writes the compiled ``crmcore.mo`` beside each copy (Babel is a build requirement), so a
wheel carries both. An editable install reads the ``.po`` files in place
(:mod:`crmcore.i18n` needs no compiled catalogue).
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup  # type: ignore[import-untyped]
from setuptools.command.build_py import build_py  # type: ignore[import-untyped]


class BuildWithCatalogues(build_py):  # type: ignore[misc]
    """``build_py`` that also compiles every copied ``.po`` to ``.mo``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for source in Path(self.build_lib, "crmcore", "locale").glob("*/LC_MESSAGES/*.po"):
            with source.open("rb") as file:
                catalog = read_po(file, locale=source.parent.parent.name)
            with source.with_suffix(".mo").open("wb") as file:
                write_mo(file, catalog)


setup(cmdclass={"build_py": BuildWithCatalogues})
