"""The controller as it is installed: `kiosk` never imports the simulator, and a wheel
works outside the source tree (its stylesheets, migrations, the demo's config and the text
catalogues compiled at build are in it)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports (at any depth: a lazy import inside a function too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _simulator_imports(package: Path) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line} imports {name}"
            for path in sorted(package.rglob("*.py"))
            for line, name in _imports(path)
            if name == "hwsim" or name.startswith("hwsim.")]


def test_no_kiosk_module_imports_the_simulator():
    """Registry entries name simulated devices as strings, imported only when a config asks."""
    assert _simulator_imports(ROOT / "kiosk") == []


def test_the_check_finds_an_import_of_the_simulator(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "demo.py").write_text("def f():\n    from hwsim.demo import run_demo\n    import hwsim\n")
    (tmp_path / "pkg" / "registry.py").write_text('TABLE = {"sim+gpio": "hwsim.gpio_doors:gpio_sim"}\n')
    assert [(line, name) for line, name in _imports(tmp_path / "pkg" / "demo.py")] == [(2, "hwsim.demo"), (3, "hwsim")]
    assert _imports(tmp_path / "pkg" / "registry.py") == []


def _copy_sources(dest: Path) -> None:
    # Without the .mo files of this tree: the build must compile them.
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    for package in ("kiosk", "drivers", "hwsim"):
        shutil.copytree(ROOT / package, dest / package, ignore=ignore)


@pytest.mark.slow
def test_a_wheel_installed_elsewhere_checks_a_config_and_starts_the_controller(tmp_path):
    """Build a wheel from a copy of the sources, install it alone into a fresh venv that
    borrows this one's dependencies, and use it from a folder with no sources in sight."""
    src = tmp_path / "src"
    src.mkdir()
    _copy_sources(src)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(src)],
                   check=True, capture_output=True, timeout=600)
    [wheel] = wheels.glob("pickup_kiosk-*.whl")
    languages = sorted(p.name for p in (ROOT / "kiosk" / "locale").iterdir() if p.is_dir())
    domains = sorted(p.stem for p in (ROOT / "kiosk" / "locale").glob("*.pot"))
    assert "ja" in languages and len(languages) >= 2 and "recipient" in domains
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    missing = [f"kiosk/locale/{code}/LC_MESSAGES/{domain}.mo" for code in languages for domain in domains
               if f"kiosk/locale/{code}/LC_MESSAGES/{domain}.mo" not in names]
    assert missing == [] and not [n for n in names if n.endswith((".po", ".pot"))]   # sources stay in the sdist

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site_packages = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                        check=True, capture_output=True, text=True).stdout.strip())
    # The dependencies (textual, cryptography, ...) come from this venv, after the wheel's own files.
    (site_packages / "borrowed-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=600)

    work = tmp_path / "elsewhere"
    work.mkdir()
    probe = f"""
import asyncio, pathlib, sys
import kiosk, hwsim
from importlib import resources
from hwsim.demo import demo_config, private_folder, write_demo_config
from kiosk.service.controller import Controller
installed = pathlib.Path({str(site_packages)!r})
for module in (kiosk, hwsim):
    assert installed in pathlib.Path(module.__file__).parents, module.__file__
for package, name in (("kiosk.ui", "kiosk.tcss"), ("kiosk.ui.counter", "counter.tcss"),
                      ("hwsim", "configs/demo.toml")):
    assert resources.files(package).joinpath(name).is_file(), (package, name)
from kiosk.languages import CODES
from kiosk.ui.texts import LANGUAGES
assert CODES == {tuple(["en", *languages])!r} and list(LANGUAGES) == list(CODES), CODES   # every catalogue, read
folder = pathlib.Path("site")
with private_folder(folder, "x") as where:
    print(write_demo_config(where, "gpio"))
    async def start_and_stop():
        controller = Controller(demo_config("gpio", where))
        await controller.start()     # migrations from the wheel
        await controller.stop()
    asyncio.run(start_and_stop())
"""
    done = subprocess.run([str(python), "-c", probe], cwd=work, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    config = work / done.stdout.strip().splitlines()[-1]
    checked = subprocess.run([str(env_dir / "bin" / "kiosk"), "check-config", str(config)],
                             cwd=work, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert "ok (site sim-0001, locks sim+gpio://?doors=8" in checked.stdout
    moved = subprocess.run([str(env_dir / "bin" / "kiosk"), "demo", "--locks", "gpio"],
                           cwd=work, capture_output=True, text=True, timeout=60)
    assert moved.returncode == 2 and "hwsim demo --locks gpio" in moved.stderr
