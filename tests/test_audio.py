"""WAV clips: sim.wav's reader, folders of clips in class sub-folders as sequence data (padded
with silence to the longest clip of both splits), and `ebnn-sim run --input clip.wav` feeding
what the data loader gives the model (end to end: train, build, run, verify)."""

import json
import wave
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_single_error_line, run_cli_in_process
from PIL import Image
from scipy.io import wavfile
from test_ebnn_cli import ebnn

from ebnn.data import DatasetError
from ebnn.datafiles import load_path, splits_of
from sim.inputs import InputError, InputFormat, console_bytes
from sim.wav import WavError, read_wav


def _pcm(path: Path, samples: np.ndarray, width: int, rate: int = 8000) -> None:
    """A PCM WAV by the standard library's writer: ``samples`` (frames, channels) of ints."""
    frames = samples if samples.ndim == 2 else samples[:, None]
    if width == 1:
        data = frames.astype(np.uint8).tobytes()
    elif width == 3:
        data = b"".join(int(v).to_bytes(3, "little", signed=True) for v in frames.ravel())
    else:
        data = frames.astype(f"<i{width}").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(frames.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(data)


def _data_chunk(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        return w.readframes(w.getnframes())


@pytest.mark.parametrize("width,values", [
    (1, [[0], [128], [255]]),
    (2, [[-32768, 5], [32767, -1]]),
    (3, [[1, -1], [8388607, -8388608]]),
    (4, [[2**31 - 1], [-(2**31)], [7]]),
])
def test_pcm_samples_keep_their_stored_values(tmp_path: Path, width: int, values) -> None:
    path = tmp_path / "c.wav"
    _pcm(path, np.array(values), width)
    wav = read_wav(path, 1 << 20)
    assert wav.rate == 8000 and wav.width == width
    assert wav.samples.tolist() == values
    assert wav.stored_bytes() == _data_chunk(path)  # what a C program reading the PCM reads
    assert wav.silence == (128 if width == 1 else 0)


def test_float_wav(tmp_path: Path) -> None:
    path = tmp_path / "f.wav"
    wavfile.write(path, 16000, np.array([[0.5, -0.25], [1.0, 0.0]], np.float32))
    wav = read_wav(path, 1 << 20)
    assert (wav.rate, wav.kind, wav.samples.tolist()) == (16000, "32-bit float",
                                                          [[0.5, -0.25], [1.0, 0.0]])


def test_bad_wavs_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "short.wav").write_bytes(b"RIFF\xff\xff\xff\xffWAVEfmt ")
    (tmp_path / "text.wav").write_text("hello")
    _pcm(tmp_path / "empty.wav", np.zeros((0, 1)), 2)
    _pcm(tmp_path / "big.wav", np.zeros((600, 1)), 2)
    for name, words in [("short.wav", "not a readable WAV"), ("text.wav", "not a readable WAV"),
                        ("empty.wav", "without samples"), ("big.wav", "larger than"),
                        ("none.wav", "no such file")]:
        with pytest.raises(WavError) as exc:
            read_wav(tmp_path / name, 1 << 10)
        assert words in str(exc.value) and "\n" not in str(exc.value), name


def _clips(root: Path, lengths: dict[str, list[int]], width: int = 2, rate: int = 8000) -> None:
    for cls, ns in lengths.items():
        for i, n in enumerate(ns):
            _pcm(root / cls / f"{i}.wav", np.arange(1, n + 1) * (1 if width == 1 else 100),
                 width, rate)


def test_a_folder_of_clips_is_sequences_padded_with_silence(tmp_path: Path) -> None:
    _clips(tmp_path / "train", {"no": [5, 7], "yes": [6]})
    _clips(tmp_path / "test", {"yes": [9]})  # the longest clip is a test clip
    assert splits_of(tmp_path) == ("train", "test")
    train, test = load_path(tmp_path, "train"), load_path(tmp_path, "test")
    assert train.layout == test.layout == "sequence"
    assert train.image_shape == test.image_shape == (9, 1)  # one length for both splits
    assert train.class_names == test.class_names == ("no", "yes")
    assert train.labels.tolist() == [0, 0, 1] and test.labels.tolist() == [1]
    assert train.images.dtype == np.float32  # 16-bit values: quantised by the model
    assert train.images[0, :, 0].tolist() == [100, 200, 300, 400, 500, 0, 0, 0, 0]
    assert "16-bit PCM, 8000 Hz, 1 channel(s), padded to 9 frames" in train.source


def test_eight_bit_clips_are_bytes_padded_with_their_silence(tmp_path: Path) -> None:
    _clips(tmp_path, {"a": [3], "b": [2]}, width=1)
    data = load_path(tmp_path)
    assert data.images.dtype == np.uint8  # already bytes: not quantised
    assert data.images[:, :, 0].tolist() == [[1, 2, 3], [1, 2, 128]]


def test_clip_folders_that_do_not_fit_together_are_refused(tmp_path: Path) -> None:
    _clips(tmp_path / "rates", {"a": [4]}, rate=8000)
    _clips(tmp_path / "rates", {"b": [4]}, rate=16000)
    _clips(tmp_path / "widths", {"a": [4]}, width=2)
    _clips(tmp_path / "widths", {"b": [4]}, width=1)
    _clips(tmp_path / "mixed", {"a": [4]})
    (tmp_path / "mixed" / "b").mkdir()
    Image.new("L", (4, 4)).save(tmp_path / "mixed" / "b" / "x.png")
    _clips(tmp_path / "splits" / "train", {"a": [4]}, rate=8000)
    _clips(tmp_path / "splits" / "test", {"a": [4]}, rate=16000)
    _clips(tmp_path / "broken", {"a": [4]})
    (tmp_path / "broken" / "a" / "bad.wav").write_text("not audio")
    for name, words in [("rates", "16000 Hz"), ("widths", "8-bit PCM"), ("splits", "16000 Hz"),
                        ("mixed", "holds images"), ("broken", "not a readable WAV")]:
        with pytest.raises(DatasetError) as exc:
            load_path(tmp_path / name)
        assert words in str(exc.value), name


def test_wav_input_without_a_recorded_format_is_its_stored_samples(tmp_path: Path) -> None:
    _pcm(tmp_path / "c.wav", np.array([[1, -2], [300, 4]]), 2)
    assert console_bytes(tmp_path / "c.wav") == _data_chunk(tmp_path / "c.wav")


def test_wav_input_is_padded_quantised_and_checked(tmp_path: Path) -> None:
    fmt = InputFormat((4, 1), 4, scale=(10.0,), zero_point=(128,))
    _pcm(tmp_path / "short.wav", np.array([100, -100]), 2)
    assert list(console_bytes(tmp_path / "short.wav", fmt)) == [138, 118, 128, 128]
    _pcm(tmp_path / "two.wav", np.arange(8) * 10, 2)  # two whole inputs
    assert list(console_bytes(tmp_path / "two.wav", fmt)) == [128 + k for k in range(8)]
    for frames, channels in ((6, 1), (3, 2)):
        _pcm(tmp_path / "bad.wav", np.zeros((frames, channels)), 2)
        with pytest.raises(InputError) as exc:
            console_bytes(tmp_path / "bad.wav", fmt)
        assert "this firmware reads inputs of shape [4, 1]" in str(exc.value)
    fmt8 = InputFormat((4, 1), 4)  # a model of 8-bit clips: bytes as they are
    _pcm(tmp_path / "b.wav", np.array([7, 200]), 1)
    assert list(console_bytes(tmp_path / "b.wav", fmt8)) == [7, 200, 128, 128]


TONES = """
[model]
name = "tones"
input = [64, 1]
classes = 3

[[model.layers]]
type = "conv1d"
filters = 8
kernel = 5
stride = 2
pool = 2

[train]
epochs = 2
seed = 0
"""


def test_a_model_of_clips_end_to_end(tmp_path: Path) -> None:
    """Train on a folder of clips of uneven length, build, and feed a short clip to the
    firmware: its class is the reference's on the loader's padded clip; verify agrees."""
    rng = np.random.default_rng(0)
    for split, n in (("train", 24), ("test", 6)):
        for c, freq in enumerate((0.05, 0.15, 0.3)):
            for i in range(n):
                t = np.arange(int(rng.integers(40, 65)))
                x = 12000 * np.sin(2 * np.pi * freq * t + rng.uniform(0, 6))
                _pcm(tmp_path / "clips" / split / f"c{c}" / f"{i}.wav",
                     x + rng.normal(0, 2000, len(t)), 2)
    (tmp_path / "tones.toml").write_text(TONES)
    assert ebnn("train", tmp_path / "tones.toml", "--data", tmp_path / "clips", "-o",
                tmp_path / "t.pt").returncode == 0
    assert ebnn("export", tmp_path / "t.pt", "-o", tmp_path / "t.ebnn").returncode == 0
    assert ebnn("build", tmp_path / "t.ebnn", "--target", "curie", "-o",
                tmp_path / "t.elf").returncode == 0

    from ebnn import artifact, reference

    art = artifact.load(tmp_path / "t.ebnn")
    test = load_path(tmp_path / "clips", "test").fit_to(tuple(art.input_shape))
    ref = reference.run(art, reference.quantize_input(art, test.images))
    expected = ref.classes
    files = sorted((tmp_path / "clips" / "test").glob("c*/*.wav"))  # the loader's order
    short = min(range(len(files)), key=lambda i: len(read_wav(files[i], 1 << 20).samples))
    clip = files[short]
    assert len(read_wav(clip, 1 << 20).samples) < 64  # padded by run as by the loader
    res = run_cli_in_process("run", tmp_path / "t.elf", "--input", clip,
                             json_path=tmp_path / "r.json")
    assert res.returncode == 0, res.stderr
    assert f"class: {expected[short]} (c{expected[short]})" in res.stdout
    assert f"scores: {' '.join(map(str, ref.scores[short]))}" in res.stdout  # the padded input
    ver = run_cli_in_process("verify", tmp_path / "t.elf", "--model", tmp_path / "t.ebnn",
                             "--data", tmp_path / "clips", "--json", tmp_path / "v.json")
    assert ver.returncode == 0, ver.stderr
    assert json.loads((tmp_path / "v.json").read_text())["mismatches"] == 0
    _pcm(tmp_path / "stereo.wav", np.zeros((64, 2)), 2)
    err = assert_single_error_line(run_cli_in_process("run", tmp_path / "t.elf", "--input",
                                                      tmp_path / "stereo.wav"))
    assert "2 channel(s)" in err


def test_clip_folders_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ebnn.datafiles as datafiles

    _clips(tmp_path / "long", {"a": [10, 1000], "b": [10]})
    monkeypatch.setattr(datafiles, "MAX_DATA_BYTES", 6000)  # 1,020 samples read: fits
    with pytest.raises(DatasetError) as exc:  # three clips padded to 1,000 frames do not
        load_path(tmp_path / "long")
    assert "3 clips of 1,000 frames are more than" in str(exc.value)
    monkeypatch.setattr(datafiles, "MAX_DATA_BYTES", 2000)
    with pytest.raises(DatasetError) as exc:
        load_path(tmp_path / "long")
    assert "MiB of samples" in str(exc.value)
    monkeypatch.setattr(datafiles, "MAX_FILE_BYTES", 100)
    with pytest.raises(DatasetError) as exc:
        load_path(tmp_path / "long")
    assert "larger than" in str(exc.value)
