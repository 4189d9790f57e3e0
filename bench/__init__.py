"""Benchmarks behind every number the project publishes; run them with ``python -m bench``.

Each benchmark measures everything it compares in one run (interleaved, repeated, medians),
because the machines are shared and noisy: what counts is the ratio, not absolute seconds.
Results go to ``bench/results/`` as small JSON files, kept in git as evidence; the results page
``docs/results.md``, its plots in ``docs/img/`` and the README's table
``bench/results/headline.md`` are rendered from them (``bench/report.py``).
"""
