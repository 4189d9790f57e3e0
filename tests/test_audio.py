"""WAV clips: sim.wav's reader, folders of clips in class sub-folders as sequence data (padded
with silence to the longest clip of both splits), and `ebnn-sim run --input clip.wav` feeding
what the data loader gives the model (end to end: train, build, run, verify)."""

import json
import wave
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from helpers import assert_single_error_line, run_cli_in_process
from PIL import Image
from scipy.io import wavfile
from test_ebnn_cli import ebnn, one_line_error

from ebnn.data import DatasetError
from ebnn.datafiles import load_path, splits_of
from sim.inputs import InputError, InputFormat, console_bytes
from sim.wav import WavError, read_header, read_wav


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
    good = (tmp_path / "big.wav").read_bytes()
    (tmp_path / "cut.wav").write_bytes(good[:-100])  # a copy that stopped early
    huge = bytearray(good)
    huge[16:20] = (0xFFFFFFF0).to_bytes(4, "little")  # a fmt chunk of 4 GiB in 1.2 KB
    (tmp_path / "huge.wav").write_bytes(bytes(huge))
    (tmp_path / "alaw.wav").write_bytes(good[:20] + (6).to_bytes(2, "little") + good[22:])
    for name, words in [("short.wav", "no fmt chunk"), ("text.wav", "no RIFF/WAVE header"),
                        ("empty.wav", "without samples"), ("big.wav", "larger than"),
                        ("none.wav", "no such file"),
                        ("cut.wav", "cut short: its data chunk says 1,200 bytes, the file "
                                    "holds 1,100"),
                        ("huge.wav", "its 'fmt ' chunk says 4,294,967,280 bytes"),
                        ("alaw.wav", "not a WAV file scipy reads")]:
        with pytest.raises(WavError) as exc:
            read_wav(tmp_path / name, 1 << 10 if name == "big.wav" else 1 << 20)
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
    assert "16-bit PCM at 8000 Hz, 1 channel, padded to 9 frames" in train.source
    assert train.clips is not None and train.clips.longest == str(tmp_path / "test/yes/0.wav")


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
    for name, words in [("rates", "16000 Hz"), ("widths", "8-bit samples"),
                        ("splits", "16000 Hz"),
                        ("mixed", "holds images"), ("broken", "no RIFF/WAVE header")]:
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
    _pcm(tmp_path / "bad.wav", np.zeros((6, 1)), 2)
    with pytest.raises(InputError) as exc:
        console_bytes(tmp_path / "bad.wav", fmt)
    assert "this firmware reads inputs of shape [4, 1]" in str(exc.value)
    # a stereo clip for a mono model: its channels, not its length (it was told "trim it")
    _pcm(tmp_path / "stereo.wav", np.zeros((3, 2)), 2)
    with pytest.raises(InputError) as exc:
        console_bytes(tmp_path / "stereo.wav", fmt)
    assert str(exc.value).endswith("stereo.wav: 16-bit PCM at 8000 Hz, 2 channels; this "
                                   "firmware's model takes clips of 1 channel(s): convert the "
                                   "clip")
    # an image model: a clip's samples would be read as pixels (data review F11)
    with pytest.raises(InputError) as exc:
        console_bytes(tmp_path / "short.wav", InputFormat((2, 2, 1), 4))
    assert "short.wav: a WAV clip; this firmware's model reads images" in str(exc.value)
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
    assert "16-bit PCM at 8000 Hz, 2 channels" in err
    _pcm(tmp_path / "fast.wav", np.zeros((64, 1)), 2, rate=16000)  # recorded: 8000 Hz clips
    err = assert_single_error_line(run_cli_in_process("run", tmp_path / "t.elf", "--input",
                                                      tmp_path / "fast.wav"))
    assert "trained on 16-bit PCM clips at 8000 Hz" in err

    # new recordings, every one shorter than the model's input: padded as run --input pads
    for c in range(3):
        for i in range(2):
            _pcm(tmp_path / "new" / f"c{c}" / f"{i}.wav",
                 rng.normal(0, 3000, 30 + 5 * c + i), 2)
    ran = ebnn("eval", tmp_path / "t.ebnn", "--data", tmp_path / "new")
    assert ran.returncode == 0, ran.stderr
    ver = run_cli_in_process("verify", tmp_path / "t.elf", "--model", tmp_path / "t.ebnn",
                             "--data", tmp_path / "new", "--json", tmp_path / "n.json")
    assert ver.returncode == 0 and json.loads((tmp_path / "n.json").read_text())[
        "mismatches"] == 0, ver.stderr
    # the same recordings as unlabelled files (verify --input): padded as the loader pads them
    ver = run_cli_in_process("verify", tmp_path / "t.elf", "--model", tmp_path / "t.ebnn",
                             "--input", tmp_path / "new", "--json", tmp_path / "f.json")
    assert ver.returncode == 0, ver.stderr
    assert "0 mismatches in 6 sequences (6 input files, no labels)" in ver.stderr
    named = ebnn("eval", tmp_path / "t.ebnn", "--input", clip)  # the class by its folder's name
    assert named.returncode == 0, named.stderr
    assert named.stdout == (f"{clip}: class {expected[short]} (c{expected[short]})  scores: "
                            f"{' '.join(map(str, ref.scores[short]))}\n")
    assert "trained on 16-bit PCM clips at 8000 Hz" in one_line_error(run_cli_in_process(
        "verify", tmp_path / "t.elf", "--model", tmp_path / "t.ebnn", "--input",
        tmp_path / "fast.wav"))
    # clips of another rate are refused, as run --input refuses them
    _pcm(tmp_path / "fast" / "c0" / "0.wav", np.zeros(40), 2, rate=16000)
    _pcm(tmp_path / "fast" / "c1" / "0.wav", np.zeros(40), 2, rate=16000)
    assert "the model was trained on 16-bit PCM clips at 8000 Hz" in one_line_error(
        ebnn("eval", tmp_path / "t.ebnn", "--data", tmp_path / "fast"))
    # a folder with train/ and test/ has no "all": it was the train split, labelled all
    assert "has a train and a test split" in one_line_error(
        ebnn("eval", tmp_path / "t.ebnn", "--data", tmp_path / "clips", "--split", "all"))


def test_summary_of_a_model_too_big_whole_suggests_streaming(tmp_path: Path) -> None:
    (tmp_path / "long.toml").write_text(TONES.replace("[64, 1]", "[16000, 1]"))
    assert "(--stream keeps only a few rows of each map)" in one_line_error(
        ebnn("summary", tmp_path / "long.toml", "--target", "stm32l031"))


def test_clip_folders_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The padded array is sized from the clips' headers before any sample is read."""
    import ebnn.datafiles as datafiles

    _clips(tmp_path / "long", {"a": [10, 1000], "b": [10]})
    monkeypatch.setattr(datafiles, "MAX_DATA_BYTES", 6000)  # 1,020 samples: three padded not
    with (mock.patch.object(datafiles, "read_wav", side_effect=AssertionError("read")),
          pytest.raises(DatasetError) as exc):
        load_path(tmp_path / "long")
    assert f"3 clips padded to 1,000 frames (the longest: {tmp_path}/long/a/1.wav)" in str(
        exc.value)
    monkeypatch.setattr(datafiles, "MAX_DATA_BYTES", 1 << 20)
    monkeypatch.setattr(datafiles, "MAX_FILE_BYTES", 100)
    with pytest.raises(DatasetError) as exc:
        load_path(tmp_path / "long")
    assert "larger than" in str(exc.value)


def _riff(chunks: list[tuple[bytes, bytes]], big: bool = False) -> bytes:
    order = "big" if big else "little"
    body = b"WAVE" + b"".join(name + len(data).to_bytes(4, order) + data + b"\0" * (len(data) & 1)
                              for name, data in chunks)
    return (b"RIFX" if big else b"RIFF") + len(body).to_bytes(4, order) + body


def _fmt(channels: int, rate: int, bits: int, big: bool = False,
         frame: int | None = None) -> bytes:
    order = "big" if big else "little"
    frame = frame or channels * bits // 8
    return b"".join(v.to_bytes(n, order) for v, n in (
        (1, 2), (channels, 2), (rate, 4), (rate * frame, 4), (frame, 2), (bits, 2)))


def test_the_sample_width_comes_from_the_fmt_chunk_wherever_it_lies(tmp_path: Path) -> None:
    """24-bit clips from field recorders (a JUNK/bext chunk of kilobytes before fmt) and
    RIFX (big-endian) files are 24-bit, not 32-bit with values 256 times too large."""
    values = [-200000, 8388607, -8388608, 5]
    little = b"".join(v.to_bytes(3, "little", signed=True) for v in values)
    big = b"".join(v.to_bytes(3, "big", signed=True) for v in values)
    (tmp_path / "junk.wav").write_bytes(_riff([(b"JUNK", b"\0" * 5000),
                                               (b"fmt ", _fmt(1, 16000, 24)),
                                               (b"data", little)]))
    (tmp_path / "rifx.wav").write_bytes(_riff([(b"fmt ", _fmt(1, 16000, 24, big=True)),
                                               (b"data", big)], big=True))
    for name in ("junk.wav", "rifx.wav"):
        wav = read_wav(tmp_path / name, 1 << 20)
        assert (wav.kind, wav.samples[:, 0].tolist()) == ("24-bit PCM", values), name
        assert len(console_bytes(tmp_path / name)) == 12  # 3 bytes a sample, as stored


def test_headers_that_do_not_say_what_the_samples_are_are_refused(tmp_path: Path) -> None:
    """What scipy would read differently from the header (the clip loader sizes its array by
    the header), or would allocate gigabytes for."""
    pcm = (np.arange(8) * 100).astype("<i2").tobytes()
    cases = {
        # a data size a recorder writes before it knows it: scipy reserved 4 GiB
        "unwritten.wav": (_riff([(b"fmt ", _fmt(1, 8000, 16)), (b"data", pcm)]), 40,
                          0xFFFFFFFF, "never written"),
        # 8-bit stereo whose frames are said to be 3 bytes
        "align.wav": (_riff([(b"fmt ", _fmt(2, 8000, 8, frame=3)), (b"data", bytes(12))]),
                      None, None, "damaged: its header says 4 frames"),
        "rf64.wav": (b"RF64" + bytes(8), None, None, "an RF64 file"),
    }
    for name, (raw, at, value, words) in cases.items():
        data = bytearray(raw)
        if at is not None:
            data[at : at + (2 if value < 65536 else 4)] = value.to_bytes(
                2 if value < 65536 else 4, "little")
        (tmp_path / name).write_bytes(bytes(data))
        with pytest.raises(WavError) as exc:
            read_wav(tmp_path / name, 1 << 20)
        assert words in str(exc.value), (name, str(exc.value))
    # two data chunks: scipy reads the last, and so does the header walk (the array's size)
    (tmp_path / "two.wav").write_bytes(_riff([(b"fmt ", _fmt(1, 8000, 16)), (b"data", pcm),
                                              (b"data", pcm + pcm)]))
    assert read_header(tmp_path / "two.wav").frames == len(read_wav(
        tmp_path / "two.wav", 1 << 20).samples) == 16


def test_hidden_files_in_class_folders_are_skipped(tmp_path: Path) -> None:
    _clips(tmp_path, {"a": [4], "b": [4]})
    (tmp_path / "a" / "._0.wav").write_bytes(b"\0\5\26\7 AppleDouble")  # macOS metadata
    data = load_path(tmp_path)
    assert len(data) == 2


def test_clips_are_padded_to_the_models_input_or_refused_naming_the_longest(
        tmp_path: Path) -> None:
    _clips(tmp_path / "new", {"a": [5, 7], "b": [6]})
    data = load_path(tmp_path / "new")
    assert data.image_shape == (7, 1)
    longer = data.fit_to((1, 10, 1), "the model")  # as eval, verify and run --input pad
    assert longer.image_shape == (1, 10, 1)
    assert longer.images[1, 0, :, 0].tolist() == [100, 200, 300, 400, 500, 600, 700, 0, 0, 0]
    with pytest.raises(DatasetError) as exc:
        data.fit_to((1, 6, 1), "the model")
    assert f"the longest, {tmp_path}/new/a/1.wav (7 frames); the model takes 6 frames" in str(
        exc.value)
    with pytest.raises(DatasetError, match="holds sequences"):
        data.fit_to((1, 10, 2), "the model")  # other channels: the sequence message


def test_wav_input_of_another_format_than_the_models_is_refused(tmp_path: Path) -> None:
    fmt = InputFormat((4, 1), 4, scale=(10.0,), zero_point=(128,), wav=("16-bit PCM", 8000))
    _pcm(tmp_path / "ok.wav", np.array([10, 20]), 2)
    assert list(console_bytes(tmp_path / "ok.wav", fmt)) == [129, 130, 128, 128]
    for name, width, rate, words in [("rate.wav", 2, 16000, "16-bit PCM at 16000 Hz"),
                                     ("bytes.wav", 1, 8000, "8-bit PCM at 8000 Hz")]:
        _pcm(tmp_path / name, np.array([10, 20]), width, rate)
        with pytest.raises(InputError) as exc:
            console_bytes(tmp_path / name, fmt)
        assert f"{words}; this firmware's model was trained on 16-bit PCM clips at 8000 Hz" in (
            str(exc.value))
    assert InputFormat.from_metadata({"input.shape": "4,1", "input.wav.format": "16-bit PCM",
                                      "input.wav.rate": "8000"}).wav == ("16-bit PCM", 8000)
    with pytest.raises(InputError, match=r"input\.wav\.rate"):
        InputFormat.from_metadata({"input.shape": "4,1", "input.wav.format": "16-bit PCM"})


def test_a_search_refuses_test_clips_of_another_format(tmp_path: Path) -> None:
    from ebnn.search.datasets import load_search_data

    _clips(tmp_path / "train", {"a": [6, 6, 6, 6], "b": [6, 6, 6, 6]})
    _clips(tmp_path / "test", {"a": [5], "b": [5]}, rate=16000)
    with pytest.raises(DatasetError, match="16-bit PCM at 16000 Hz; the training clips are "
                                           "16-bit PCM at 8000 Hz"):
        load_search_data(None, None, 0.25, 0, data=tmp_path / "train", shape=(1, 6, 1),
                         test_data=tmp_path / "test")
    _clips(tmp_path / "test8k", {"a": [5], "b": [4]})  # shorter: padded to the space's input
    data = load_search_data(None, None, 0.25, 0, data=tmp_path / "train", shape=(1, 6, 1),
                            test_data=tmp_path / "test8k")
    assert data.test is not None and data.test.image_shape == (1, 6, 1)


def test_a_split_folder_whose_other_split_is_empty_or_images(tmp_path: Path) -> None:
    _clips(tmp_path / "empty" / "train", {"a": [4], "b": [5]})
    (tmp_path / "empty" / "test").mkdir()
    assert load_path(tmp_path / "empty", "train").image_shape == (5, 1)
    _clips(tmp_path / "mixed" / "train", {"a": [4], "b": [5]})
    (tmp_path / "mixed" / "test" / "a").mkdir(parents=True)
    Image.new("L", (4, 4)).save(tmp_path / "mixed" / "test" / "a" / "x.png")
    with pytest.raises(DatasetError, match="train/ holds WAV clips, test/ images"):
        load_path(tmp_path / "mixed", "train")


def test_hostile_wav_metadata_is_one_line() -> None:
    with pytest.raises(InputError, match=r"input\.wav"):
        InputFormat.from_metadata({"input.shape": "4,1", "input.wav.format": "16-bit PCM",
                                   "input.wav.rate": "9" * 5000})


def test_refits_stored_before_stream_searches_still_match() -> None:
    """A refit record keeps its task's setup; one stored before --stream existed has no
    stream in its budget, and must still stand for a search that does not stream."""
    from ebnn.search.measure import Budget
    from ebnn.search.refit import RefitTask

    plain = RefitTask(1, {"model": {}}, Budget("curie", 2048, 200_704, None, 32_000_000))
    assert "stream" not in plain.setup()["budget"]
    streamed = RefitTask(1, {"model": {}}, Budget("curie", 2048, 200_704, None, 32_000_000,
                                                  stream=True))
    assert streamed.setup()["budget"]["stream"] is True


@pytest.mark.parametrize("target", ["curie", "stm32l031"])
def test_verify_counts_a_streams_library_calls_not_the_harness_reading_rows(
        tmp_path: Path, target: str) -> None:
    """A streaming build's cycles per inference are its calls of ebnn_stream_begin and
    ebnn_stream_row (as the profiler counts them, inclusive), not the harness reading each
    row from the console between them (those counted too: +1.1% for mnist1d's 40 steps on
    curie, +21% for the 800-frame clips of examples/audio)."""
    from ebnn.artifact import load as load_artifact
    from ebnn.build import build_firmware
    from ebnn.verify import run_firmware

    examples = Path(__file__).resolve().parents[1] / "examples"
    art = load_artifact(examples / "mnist1d" / "mnist1d.ebnn")
    elf = tmp_path / "s.elf"
    build_firmware(art, elf, target, stream=True)
    sample = np.asarray(art.sample, np.uint8).reshape(1, *art.input_shape)
    _, _, instructions, cycles, _ = run_firmware(elf, np.concatenate([sample] * 2), target)
    (tmp_path / "x.bin").write_bytes(sample.tobytes())  # raw bytes: the quantised sample
    res = run_cli_in_process("profile", elf, "--input", tmp_path / "x.bin",
                             json_path=tmp_path / "p.json")
    assert res.returncode == 0, res.stderr
    functions = {f["name"]: f for f in json.loads((tmp_path / "p.json").read_text())[
        "functions"]}
    begin, rows = functions["ebnn_stream_begin"], functions["ebnn_stream_row"]
    assert begin["calls"] == 2  # the harness begins again, then finds no more input
    for key, counted in (("cycles", cycles), ("instructions", instructions)):
        assert counted == [rows["inclusive"][key] + begin["inclusive"][key] // 2] * 2
    with mock.patch("ebnn.verify.stream_pauses", return_value=([], [])):  # as before
        whole = run_firmware(elf, sample, target)[3]
    assert whole[0] > cycles[0] + 40 * 20  # reading each of the 40 rows cost the harness more
    # a harness whose calls cannot be found would be counted otherwise: refused, not guessed
    from ebnn.verify import VerifyError

    with (mock.patch("ebnn.verify.return_sites", return_value=[]),
          pytest.raises(VerifyError, match="no bl to ebnn_stream_begin")):
        run_firmware(elf, sample, target)


@pytest.mark.parametrize("module, name", [("scipy.io", "c.wav"), ("matplotlib", "c.png")])
def test_an_input_reader_not_installed_is_one_line(tmp_path: Path, module: str,
                                                   name: str) -> None:
    """`pip install ebnn-sim` without the ml extra has neither scipy nor matplotlib."""
    _pcm(tmp_path / "c.wav", np.array([1, 2]), 2)
    Image.new("L", (2, 2)).save(tmp_path / "c.png")
    with mock.patch.dict("sys.modules", {module: None}), pytest.raises(InputError) as exc:
        console_bytes(tmp_path / name)
    assert f"needs {module.split('.')[0]} (pip install {module.split('.')[0]}" in str(exc.value)
