"""`ebnn search` on data other than the bundled MNIST: a built-in float data set (quantised as
`ebnn train` quantises it), a CSV file of flat rows, and the one-line errors of bad data
options."""

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ebnn.artifact import load as load_artifact
from ebnn.data import DatasetError, split_train_val
from ebnn.datasets import load_digits_split
from ebnn.quantize import fit
from ebnn.search.datasets import load_search_data
from sim.cli import main as sim_main
from tests.test_search import ebnn, fresh, one_line_error, outcomes

ROOT = Path(__file__).resolve().parents[1]

SPACE = """\
[model]
name = "tiny8"
input = [8, 8, 1]
classes = 10

[space]
blocks = 1

[space.first]
filters = [4, 6]
kernel = 3
padding = 1
pool = 2

[space.train]
epochs = 1
batch_size = 32
lr = 0.02
seed = 0
val_fraction = 0.1
"""
ARGS = ("--sram", "2k", "--trials", "1", "--batch", "1", "--jobs", "1")


@pytest.fixture(scope="module")
def space_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("space") / "tiny8.toml"
    path.write_text(SPACE)
    return path


def test_builtin_float_data_is_quantised_like_train(space_file, tmp_path):
    out = fresh(tmp_path / "s")
    ran = ebnn("search", space_file, "--dataset", "digits", *ARGS, "-o", out)
    assert ran.returncode == 0, ran.stderr
    (entry,) = json.loads((out / "pareto.json").read_text())
    # digits has a test split: reported; the firmware agreed with the reference (status ok)
    assert entry["test_accuracy"] is not None and entry["val_accuracy"] > 0.15
    art = load_artifact(out / entry["ebnn"])
    train, _ = split_train_val(load_digits_split("train"), 0.1, 0)
    expected = fit(train.images).to_dict()
    assert art.input_quant is not None and art.input_quant.to_dict() == expected
    assert art.metadata["dataset"] == "digits" and art.metadata["search_trial"] == 0


def test_csv_rows_take_the_space_input(space_file, tmp_path):
    digits = load_digits_split("train")
    # floats in [0, 1]: quantised to 8 bits with parameters fitted on the training part
    rows = np.column_stack([digits.labels, digits.images.reshape(len(digits), -1) / 16.0])
    csv = tmp_path / "digits.csv"
    header = ",".join(["label", *(f"p{i}" for i in range(64))])
    np.savetxt(csv, rows, fmt="%.4f", delimiter=",", header=header, comments="")
    data = load_search_data(None, None, 0.1, 0, data=csv, shape=(8, 8, 1))
    assert data.train.image_shape == (8, 8, 1) and data.test is None
    assert data.quant is not None and data.train.images.dtype == np.uint8
    out = fresh(tmp_path / "s")
    ran = ebnn("search", space_file, "--data", csv, *ARGS, "-o", out)
    assert ran.returncode == 0, ran.stderr
    (entry,) = json.loads((out / "pareto.json").read_text())
    assert entry["test_accuracy"] is None  # a CSV without a test part
    settings = json.loads((out / "search.json").read_text())
    assert settings["data_path"] == str(csv.resolve())
    # the same file with other contents: --resume and --report refuse it, in one line
    before = (out / "pareto.json").read_text()
    rows[:, 0] = np.roll(rows[:, 0], 1)  # the labels shifted by one image
    np.savetxt(csv, rows, fmt="%.4f", delimiter=",", header=header, comments="")
    for args in (("-o", out, "--resume", "--trials", "2"), ("--report", out)):
        assert "is not the data this search began with" in one_line_error(ebnn("search", *args))
    assert (out / "pareto.json").read_text() == before


def test_a_test_file_of_its_own_is_the_test_split(space_file, tmp_path):
    """--test-data: a CSV search's test split from another file (only --test-data-dir, IDX,
    could give one: a CSV search reported no test accuracy)."""
    header = ",".join(["label", *(f"p{i}" for i in range(64))])
    for split in ("train", "test"):
        digits = load_digits_split(split)
        rows = np.column_stack([digits.labels, digits.images.reshape(len(digits), -1) / 16.0])
        np.savetxt(tmp_path / f"{split}.csv", rows, fmt="%.4f", delimiter=",", header=header,
                   comments="")
    out = fresh(tmp_path / "s")
    ran = ebnn("search", space_file, "--data", tmp_path / "train.csv", "--test-data",
               tmp_path / "test.csv", *ARGS, "-o", out)
    assert ran.returncode == 0, ran.stderr
    (entry,) = json.loads((out / "pareto.json").read_text())
    assert entry["test_accuracy"] is not None and entry["test_accuracy"] > 0.1
    assert json.loads((out / "search.json").read_text())["test_data"] == str(
        (tmp_path / "test.csv").resolve())
    # only the test file changed: the refusal names it, not only the training file
    test_csv = tmp_path / "test.csv"
    test_csv.write_text(test_csv.read_text().replace("\n1.0000,", "\n2.0000,", 1))
    line = one_line_error(ebnn("search", "--report", out))
    assert f"; test split {test_csv}) is not the data this search began with" in line, line
    both = ebnn("search", space_file, "--data", tmp_path / "train.csv", "--test-data",
                tmp_path / "test.csv", "--test-data-dir", tmp_path, *ARGS, "-o", tmp_path / "b")
    assert "--test-data and --test-data-dir both name a test split" in one_line_error(both)


def _digits_npz(path: Path, **test: np.ndarray) -> Path:
    train = load_digits_split("train")
    np.savez(path, x_train=train.images[..., 0], y_train=train.labels, **test)
    return path


def test_an_npz_with_x_test_but_no_y_test_is_searched_as_train_takes_it(space_file, tmp_path):
    """docs/data.md: x_test without y_test trains; the search refused the whole file."""
    test = load_digits_split("test")
    data = _digits_npz(tmp_path / "xt_only.npz", x_test=test.images[..., 0])
    loaded = load_search_data(None, None, 0.1, 0, data=data, shape=(8, 8, 1))
    assert loaded.test is None and len(loaded.train) > 0
    assert loaded.notes == (f"{data}: has x_test but not y_test: its test split cannot be "
                            "scored, so no test accuracy is reported",)
    out = fresh(tmp_path / "s")
    ran = ebnn("search", space_file, "--data", data, *ARGS, "-o", out)
    assert ran.returncode == 0, ran.stderr
    assert f"warning: {data}: has x_test but not y_test" in ran.stderr
    (entry,) = json.loads((out / "pareto.json").read_text())
    assert entry["test_accuracy"] is None and entry["val_accuracy"] > 0.1
    rep = ebnn("search", "--report", out)  # the same data, digest and all
    assert rep.returncode == 0, rep.stderr


def test_an_x_test_of_another_shape_is_refused_up_front_by_name(space_file, tmp_path):
    test = load_digits_split("test")
    data = _digits_npz(tmp_path / "xt_shape.npz", x_test=test.images[:, :, :4, 0],
                       y_test=test.labels)
    out = tmp_path / "s"
    line = one_line_error(ebnn("search", space_file, "--data", data, *ARGS, "-o", out))
    assert f"the test split, {data} (test: x_test, y_test), samples are (8, 4, 1)" in line, line
    assert "the space's input takes (8, 8, 1)" in line
    assert not out.exists()


def test_data_moved_is_taken_at_its_new_path_when_it_is_the_same(space_file, tmp_path):
    """A search was tied to its data's absolute path: moved (or the project copied to another
    machine), it could be neither reported nor resumed (review M2). Its digest decides."""
    first = _digits_npz(tmp_path / "a.npz")
    out = fresh(tmp_path / "s")
    assert ebnn("search", space_file, "--data", first, *ARGS, "-o", out).returncode == 0
    before = (out / "pareto.json").read_text()
    moved = first.rename(tmp_path / "b.npz")
    assert (f"{first}: no such file or folder (moved? give its new path with --data: the "
            "search checks that it is the same data)") in one_line_error(
        ebnn("search", "--report", out))
    rep = ebnn("search", "--report", out, "--data", moved)
    assert rep.returncode == 0, rep.stderr
    assert f"note: --data {moved}: the data this search began with at {first}" in rep.stderr
    assert (out / "pareto.json").read_text() == before
    assert json.loads((out / "search.json").read_text())["data_path"] == str(first)
    ran = ebnn("search", "-o", out, "--resume", "--data", moved)  # kept from now on
    assert ran.returncode == 0, ran.stderr
    assert json.loads((out / "search.json").read_text())["data_path"] == str(moved)
    assert ebnn("search", "--report", out).returncode == 0
    # other data at another path is still refused, naming the path the search began with
    train = load_digits_split("train")
    other = tmp_path / "c.npz"
    np.savez(other, x_train=train.images[..., 0], y_train=np.roll(train.labels, 1))
    for args in (("--report", out), ("-o", out, "--resume", "--trials", "2")):
        line = one_line_error(ebnn("search", *args, "--data", other))
        assert f"is not the data this search began with (at {moved})" in line, line
    assert (out / "pareto.json").read_text() == before
    # a --data search is not turned into one of another source
    assert "--data-dir differs from the search in this folder (it ran without --data-dir)" in (
        one_line_error(ebnn("search", "--report", out, "--data-dir", tmp_path)))


def test_an_input_over_the_sram_budget_points_to_stream_before_any_trial(tmp_path):
    """Every candidate was rejected in turn, with no word of --stream (review L10)."""
    space = tmp_path / "big.toml"
    space.write_text(SPACE.replace("input = [8, 8, 1]", "input = [40, 40, 1]")
                     .replace("classes = 10", "classes = 2"))
    data = tmp_path / "big.npz"
    np.savez(data, x=np.zeros((20, 40, 40), np.uint8), y=np.arange(20) % 2)
    out = tmp_path / "s"
    line = one_line_error(ebnn("search", space, "--data", data, "--sram", "1k", "--trials", "1",
                               "--jobs", "1", "-o", out))
    assert ("the space's input [40, 40, 1] is 1,600 B, more than the SRAM budget (1,024 B) "
            "before any layer runs: no candidate fits built whole; --stream feeds it row by "
            "row") in line, line
    assert not out.exists()


def test_a_test_file_numbers_its_class_names_as_the_training_data_does(tmp_path):
    def named(path: Path, names: list[str]) -> Path:
        body = "".join(f"{n},{i % 7},{(i * 3) % 5},{i % 2},{i % 3}\n"
                       for i, n in enumerate(names * 6))
        path.write_text("label,a,b,c,d\n" + body)
        return path

    train = named(tmp_path / "train.csv", ["cat", "dog", "emu"])
    no_dog = named(tmp_path / "no-dog.csv", ["cat", "emu"])  # cat 0, emu 1 on its own
    data = load_search_data(None, None, 0.2, 0, data=train, shape=(2, 2, 1), test_data=no_dog)
    assert sorted(set(data.test.labels.tolist())) == [0, 2]  # emu is the training data's 2
    fox = named(tmp_path / "fox.csv", ["cat", "fox"])
    with pytest.raises(DatasetError, match="class 'fox' is not one of the training data's"):
        load_search_data(None, None, 0.2, 0, data=train, shape=(2, 2, 1), test_data=fox)
    # numbered test labels: fewer classes than the training data's is fine; for training
    # classes named with numbers (folders 0/, 1/, ...), the numbers are those names
    numbered = named(tmp_path / "numbered.csv", ["0", "1", "2"])
    no_two = named(tmp_path / "no-two.csv", ["0", "1"])
    data = load_search_data(None, None, 0.2, 0, data=numbered, shape=(2, 2, 1),
                            test_data=no_two)
    assert data.test.classes == 3 and sorted(set(data.test.labels.tolist())) == [0, 1]
    from dataclasses import replace

    import ebnn.search.datasets as sd
    folders = replace(data.train, class_names=("0", "1", "2"))
    test = sd._by_names(replace(data.test, class_names=None), folders)
    assert test.class_names == ("0", "1", "2") and sorted(set(test.labels.tolist())) == [0, 1]


SEQUENCE_SPACE = """\
[model]
name = "imu"
input = [100, 6]
classes = 4

[space]
blocks = [1, 2]
kinds = ["conv1d", "linear"]

[space.first]
filters = [4, 8]
kernel = 5
padding = 2
pool = 4

[space.conv1d]
filters = 8
pool = 5

[space.linear]
units = 8

[space.train]
epochs = 1
batch_size = 8
seed = 0
val_fraction = 0.2
"""


def test_a_sequence_space_of_other_classes_names_sequences(tmp_path):
    """'the space's models take (1, 100, 6) images in 6 classes' for a sequence space
    (review L6)."""
    space = tmp_path / "imu6.toml"
    space.write_text(SEQUENCE_SPACE.replace("classes = 4", "classes = 6"))
    line = one_line_error(ebnn("search", space, "--dataset", "basicmotions", "--sram", "2k",
                               "-o", tmp_path / "s"))
    assert line.endswith("the space's models take sequences [T, C] = [100, 6] in 6 classes; "
                         "basicmotions has sequences [T, C] = [100, 6] in 4"), line


def test_a_sequence_data_set_is_searched_with_conv1d_blocks(tmp_path):
    # the first block was always a 2-D conv whose default 3x3 kernel fits no [T, C] input:
    # every sequence space (basicmotions' included) was refused
    space = tmp_path / "imu.toml"
    space.write_text(SEQUENCE_SPACE)
    out = fresh(tmp_path / "s")
    ran = ebnn("search", space, "--dataset", "basicmotions", "--sram", "2k", "--trials", "3",
               "--jobs", "1", "-o", out)
    assert ran.returncode == 0, ran.stderr
    entries = json.loads((out / "pareto.json").read_text())
    assert entries and all(e["test_accuracy"] is not None for e in entries)
    for e in entries:
        layers = e["config"]["model"]["layers"]
        assert layers[0]["type"] == "conv1d" and layers[0]["kernel"] == 5
        assert e["config"]["model"]["input"] == [100, 6]  # [T, C] as the space gives it
        config = tomllib.loads((out / e["ebnn"]).with_suffix(".toml").read_text())
        assert config["model"]["input"] == [100, 6]  # the Pareto model's config file too
        assert all(layer["type"] in ("conv1d", "linear") for layer in layers)
        assert e["sram_peak"] <= 2048
    assert "| conv1d " in (out / "pareto.md").read_text()
    assert "findfont" not in ran.stderr  # matplotlib's font fallback, 20 lines of it, is quiet


@pytest.mark.parametrize("args, message", [
    (("--dataset", "digits", "--data", "x.csv"), "give one of --dataset and --data, not both"),
    (("--dataset", "mnist"), "the space's input takes"),
    (("--dataset", "mnist1d"), "mnist1d holds sequences"),
])
def test_bad_data_options_fail_in_one_line(space_file, tmp_path, args, message):
    if "x.csv" in args:
        (tmp_path / "x.csv").write_text("label,a\n1,2\n")
        args = tuple(str(tmp_path / a) if a == "x.csv" else a for a in args)
    line = one_line_error(ebnn("search", space_file, *args, *ARGS, "-o", tmp_path / "s"))
    assert message in line


def test_a_start_config_is_the_first_trial(tmp_path):
    from tests.test_search import TOY

    space = tmp_path / "toy.toml"
    space.write_text(TOY)
    start = tmp_path / "mine.toml"
    start.write_text('[model]\nname = "mine"\ninput = [28, 28, 1]\nclasses = 10\n\n'
                     '[[model.layers]]\ntype = "conv"\nfilters = 4\nkernel = 3\nstride = 2\n'
                     'pool = 2\n\n[train]\nlr = 0.02\nshift = 4\nepochs = 5\n')
    out = fresh(tmp_path / "s")
    ran = ebnn("search", space, "--start", start, "--sram", "2k", "--trials", "1", "--epochs",
               "1", "--train-images", "300", "--batch", "1", "--jobs", "1", "-o", out)
    assert ran.returncode == 0, ran.stderr
    (entry,) = json.loads((out / "pareto.json").read_text())
    assert entry["trial"] == 0
    assert entry["config"]["model"]["layers"] == [
        {"type": "conv", "filters": 4, "kernel": 3, "stride": 2, "pool": 2}]
    assert entry["config"]["train"]["lr"] == 0.02
    # its shift is not the space's (which fixes none): said, not dropped silently (review L5);
    # its epochs are --epochs' as asked
    assert (f"warning: --start {start}: its [train] shift = 4 is not what the search trains "
            "it with (shift = 2: the space's value or the default)") in " ".join(
        ran.stderr.split())
    assert "epochs = 5" not in ran.stderr and "shift" not in entry["config"]["train"]
    assert f"Started from `{start}`" in (out / "pareto.md").read_text()
    assert json.loads((out / "search.json").read_text())["start"] == [str(start)]
    # continuing takes no --start
    line = one_line_error(ebnn("search", "-o", out, "--resume", "--start", start))
    assert "--start is for a new search" in line


@pytest.mark.parametrize("layer, message", [
    ('type = "conv"\nfilters = 3\nkernel = 3', "layer 1 filters is not among the space's choices"),
    ('type = "conv"\nfilters = 4\nkernel = 3\npool = 2\npool_stride = 1',
     "the space cannot make layer 1: pool_stride 1x1 (the space makes 2x2)"),
])
def test_a_start_config_outside_the_space_fails_in_one_line(tmp_path, layer, message):
    from tests.test_search import TOY

    space = tmp_path / "toy.toml"
    space.write_text(TOY)
    start = tmp_path / "mine.toml"
    start.write_text(f'[model]\nname = "mine"\ninput = [28, 28, 1]\nclasses = 10\n\n'
                     f'[[model.layers]]\n{layer}\n')
    line = one_line_error(ebnn("search", space, "--start", start, "--trials", "1", "-o",
                               tmp_path / "s"))
    assert message in line
    assert not (tmp_path / "s").exists()  # nothing written


def test_the_handmade_models_lie_in_the_shipped_spaces():
    import tomllib

    import optuna

    from ebnn.config import parse_config
    from ebnn.search.space import load_space

    root = Path(__file__).resolve().parent.parent / "examples"
    for space, model in (("mnist", "mnist"), ("mnist", "mnist-tiny"), ("digits", "digits"),
                         ("mnist-near", "mnist"), ("mnist-near-recipe", "mnist"),
                         ("basicmotions", "basicmotions")):
        sp = load_space(root / "search" / f"{space}.toml")
        config = tomllib.loads((root / model / f"{model}.toml").read_text())
        made = sp.suggest(optuna.trial.FixedTrial(sp.params_of(config, model)))
        assert parse_config(made).layers == parse_config(config).layers
        assert made["train"]["lr"] == config["train"]["lr"]


def test_a_named_data_set_takes_a_test_folder(tmp_path):
    from ebnn.data import load_dataset
    from tests.test_search import write_idx

    ds = load_dataset("mnist")
    write_idx(tmp_path / "t10k-images-idx3-ubyte", ds.images[:50, :, :, 0])
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", ds.labels[:50])
    data = load_search_data("mnist", None, 0.1, 0, tmp_path, shape=(28, 28, 1))
    assert len(data.test) == 50 and data.test.name == "mnist"


CLIP_SPACE = """\
[model]
name = "tones"
input = [800, 1]
classes = 3

[space]
blocks = 2
kinds = ["conv1d"]

[space.first]
filters = [32, 48]
kernel = 8
stride = 4
pool = 2

[space.conv1d]
filters = 8
pool = 4

[space.train]
epochs = 1
batch_size = 16
seed = 0
val_fraction = 0.2
"""


def test_a_stream_search_finds_models_whose_whole_input_does_not_fit(tmp_path):
    """`--stream`: 800-frame clips (800 B of input) in 1 KiB of SRAM. Built whole, every
    candidate is over the budget before training; streamed, the Pareto models are streaming
    firmware that runs a WAV clip in 1 KiB, and a resume must keep the setting."""
    import subprocess
    import sys

    from sim.elf import load_elf

    clips = tmp_path / "clips"
    subprocess.run([sys.executable, str(ROOT / "examples" / "audio" / "make_tones.py"),
                    str(clips), "--train", "10", "--test", "3"], check=True,
                   capture_output=True)
    space = tmp_path / "tones.toml"
    space.write_text(CLIP_SPACE)
    whole = fresh(tmp_path / "whole")
    ran = ebnn("search", space, "--data", clips, "--sram", "1k", "--trials", "2", "--jobs",
               "1", "-o", whole)
    assert ran.returncode == 3 and "no model in the Pareto set" in ran.stderr, ran.stderr
    assert "validation sequences of clips" in ran.stderr
    records = outcomes(whole).values()
    assert records and all(r["status"] == "rejected" and "before training: SRAM" in r["reason"]
                           for r in records)
    out = fresh(tmp_path / "stream")
    ran = ebnn("search", space, "--data", clips, "--sram", "1k", "--stream", "--trials", "2",
               "--jobs", "1", "-o", out)
    assert ran.returncode == 0, ran.stderr
    assert "streaming firmware" in ran.stderr and "(streaming firmware)" in (
        out / "pareto.md").read_text()
    entries = json.loads((out / "pareto.json").read_text())
    assert entries and all(e["sram_peak"] <= 1024 and e["stream"] for e in entries)
    for e in entries:
        assert "ebnn_stream_row" in load_elf(out / e["elf"]).symbols
        res = CliRunner().invoke(sim_main, ["run", str(out / e["elf"]), "--sram", "1k",
                                            "--input", str(clips / "test" / "hum" / "000.wav")])
        assert res.exit_code == 0, res.output
    # the candidates keep what `ebnn train` keeps: the class names (eval numbers the
    # folder's classes by them) and the clips' format (other clips must have it)
    art = load_artifact(out / entries[0]["ebnn"])
    assert art.metadata["class_names"] == ["chirp", "hum", "whistle"]
    assert art.metadata["input_clips"] == {"format": "16-bit PCM", "rate": 8000}
    assert ebnn("eval", out / entries[0]["ebnn"], "--data", clips).returncode == 0
    assert "--stream differs" in one_line_error(
        ebnn("search", "-o", whole, "--resume", "--stream", "--trials", "3"))


def test_data_dir_of_ones_own_idx_files_points_to_data(tmp_path):
    """--data-dir reads a built-in set's files (MNIST's 10 classes): given IDX files of
    another task, train and search say to use --data (search review finding 7)."""
    from tests.test_search import write_idx

    rng = np.random.default_rng(0)
    idx = tmp_path / "idx"
    idx.mkdir()
    write_idx(idx / "train-images-idx3-ubyte", rng.integers(0, 256, (30, 16, 16)))
    write_idx(idx / "train-labels-idx1-ubyte", np.arange(30) % 3)
    space = tmp_path / "three.toml"
    space.write_text('[model]\nname = "three"\ninput = [16, 16, 1]\nclasses = 3\n\n'
                     '[space.first]\nfilters = 4\nkernel = 3\n')
    line = one_line_error(ebnn("search", space, "--data-dir", idx, "-o", tmp_path / "s"))
    assert "images [16, 16, 1] in 3 classes; mnist has images [16, 16, 1] in 10" in line
    assert line.endswith("(--data-dir reads mnist's own IDX files; IDX files of your own "
                         "task: --data DIR)")
    config = tmp_path / "three-model.toml"
    config.write_text('[model]\nname = "three"\ninput = [16, 16, 1]\nclasses = 3\n\n'
                      '[[model.layers]]\ntype = "conv"\nfilters = 4\nkernel = 3\n')
    line = one_line_error(ebnn("train", config, "--data-dir", idx, "-o", tmp_path / "t"))
    assert line.endswith("IDX files of your own task: --data DIR)"), line


def test_more_folds_than_a_class_has_samples_is_warned(capsys):
    """--cv-folds 10 on classes of 6 samples ran folds holding none of a class, reported as
    one cross-validated accuracy without a word (review s55 datarev L9; scikit-learn's
    StratifiedKFold warns so)."""
    import numpy as np

    from ebnn.data import Dataset
    from ebnn.search import command
    from ebnn.search.datasets import SearchData

    def split(labels: list[int]) -> Dataset:
        return Dataset("tiny", np.zeros((len(labels), 2, 2, 1), np.uint8),
                       np.array(labels, np.int64), 3, "tiny.npz", class_names=("a", "b", "c"))

    data = SearchData(split([0] * 5 + [1] * 8 + [2] * 8), split([0, 1, 2]), None)
    command._warn_thin_folds(data, None, 6)
    assert capsys.readouterr().err == ""
    command._warn_thin_folds(data, None, 10)
    said = " ".join(capsys.readouterr().err.split())
    assert said == ("warning: --cv-folds 10: class a has only 6 labelled sample(s), fewer than "
                    "the folds: some folds hold none of it and the folds' accuracies swing "
                    "(--cv-folds 6 or fewer is steadier)")
