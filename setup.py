"""The build step pyproject.toml cannot say: the text catalogues compiled into the package.

Every kiosk/locale/<lang>/LC_MESSAGES/<domain>.po is checked against its template and
compiled to .mo by Babel (kiosk/i18n/build.py, loaded by its path: the build environment
has setuptools and Babel, not the project's dependencies). A wheel gets the .mo files in
its build folder; an editable install gets them beside the .po files. The .mo files are
never committed (.gitignore); ./dev setup compiles them again each time (`python -m
kiosk.i18n compile`), as a .po may change without a reinstall.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _catalogue_builder():
    spec = importlib.util.spec_from_file_location("kiosk_i18n_build", ROOT / "kiosk" / "i18n" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPyWithCatalogues(build_py):
    """build_py, then every .po compiled to .mo in the package (a broken .po stops the build)."""

    def run(self) -> None:
        super().run()
        builder = _catalogue_builder()
        locale = ROOT / "kiosk" / "locale"
        out = locale if self.editable_mode else Path(self.build_lib) / "kiosk" / "locale"
        for path in builder.compile_catalogues(locale, out):
            self.announce(f"compiled {path}", level=2)


setup(cmdclass={"build_py": BuildPyWithCatalogues})
