"""Every output format of ``ebnn-sim``, one module per format, each taking typed results.

- :mod:`sim.formats.text`: rich tables for the terminal (run summary, profile, check, diff,
  targets);
- :mod:`sim.formats.json`: the JSON documents (run report, profile, check results);
- :mod:`sim.formats.junit`: JUnit XML of check results;
- :mod:`sim.formats.markdown`: a diff as GitHub Markdown;
- :mod:`sim.formats.speedscope`: a profile as a speedscope flame graph;
- :mod:`sim.formats.html`: a profile as one self-contained HTML page.
"""
