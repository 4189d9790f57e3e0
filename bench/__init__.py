"""Benchmarks whose numbers back the project's speed claims; run them with ``python -m bench``.

Each benchmark measures everything it compares in one run (interleaved, repeated, medians),
because the machines are shared and noisy: what counts is the ratio, not absolute seconds.
Results go to ``bench/results/`` as small JSON files, kept in git as evidence.
"""
