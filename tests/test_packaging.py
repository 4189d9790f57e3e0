"""What the wheel ships besides the modules: the firmware sources the build compiles and the
PEP 561 markers that let users' type checkers (mypy, pyright) read the packages' annotations."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_python_package_is_marked_typed_and_ships_the_marker():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    data = config["package-data"]
    for package in ("sim", "ebnn", "toolchain"):
        assert package in config["packages"]["find"]["include"]
        assert "py.typed" in data[package], package
        assert (ROOT / package / "py.typed").is_file(), package
    assert {"*.c", "*.h"} <= set(data["firmware"])
