"""``ebnn search``: find the eBNNs that fit a device, every candidate measured on the emulated
target.

The pieces, in the order data flows through them:

* :mod:`ebnn.search.space`: the search space in TOML, and a candidate's model config drawn from
  it by an Optuna trial;
* :mod:`ebnn.search.datasets`: the train/validation/test images of a search;
* :mod:`ebnn.search.measure`: one candidate, start to end (probe firmware with untrained
  weights, reject or train, export, build, re-measure); runs in a worker process;
* :mod:`ebnn.search.backends`: where candidates run: a local process pool or Ray tasks;
* :mod:`ebnn.search.study`: the Optuna study (ask/tell, constraints, SQLite in the output folder,
  resume), in batches so that results do not depend on timing or backend;
* :mod:`ebnn.search.outputs` and :mod:`ebnn.search.plot`: the Pareto set as JSON, Markdown, a
  plot and model files.

See docs/search.md.
"""
