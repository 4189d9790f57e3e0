"""``ebnn``: train, export, evaluate and build embedded binarized neural networks."""

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ebnn-sim")
def main() -> None:
    """Embedded binarized neural networks: train in PyTorch, export integer-exact, build
    Cortex-M firmware."""
