"""A .pt that is a plain pickle (protocol 4, not torch's zip): refused in one line, with no
torch warning on stderr around it (``ebnn export``, a space's or a search folder's teacher)."""

import os
import pickle

import pytest

from ebnn.train import TrainError, load_checkpoint


class Evil:
    def __reduce__(self):
        return (os.getpid, ())  # harmless: weights_only must refuse any callable anyway


def test_a_foreign_pickle_is_one_line_without_warnings(tmp_path, recwarn):
    pt = tmp_path / "evil.pt"
    pt.write_bytes(pickle.dumps(Evil(), protocol=4))
    with pytest.raises(TrainError, match="not a readable model checkpoint"):
        load_checkpoint(pt)
    assert [str(w.message) for w in recwarn] == []
