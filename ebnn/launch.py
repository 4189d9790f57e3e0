"""The ``ebnn`` console script: ``sim.launch`` for ebnn's commands; ``python -m ebnn.launch``
runs it too (it printed nothing and exited 0)."""

from sim.launch import launch


def main() -> None:
    launch("ebnn.cli")


if __name__ == "__main__":
    main()
