"""Plain C99 sources for the target: start-up code, semihosting runtime, eBNN kernels.

This package only carries the files; ``Path(firmware.__file__).parent`` is where they are.
"""
