"""Build the simulator's native block hook (a plain C callback that Unicorn calls directly)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("sim._blockhook", sources=["sim/_blockhook.c"], extra_compile_args=["-O2"]),
    ]
)
