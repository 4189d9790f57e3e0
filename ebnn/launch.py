"""The ``ebnn`` console script: ``sim.launch`` for ebnn's commands."""

from sim.launch import launch


def main() -> None:
    launch("ebnn.cli")
