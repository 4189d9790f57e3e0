"""The training recipe's options: augmentation, learning-rate schedule, BN re-calibration."""

import math

import numpy as np
import pytest
import torch
from test_ebnn_cli import SMALL

from ebnn.config import ConfigError, TrainSpec, load_config
from ebnn.data import load_dataset, split_train_val
from ebnn.model import EBNN
from ebnn.train import _lr_factor, calibrate_bn, load_checkpoint, shift_batch, train, warp_batch


def disk(n: int = 4, size: int = 28, radius: float = 6.0) -> torch.Tensor:
    """n copies of a centred bright disk, uint8 (n, size, size, 1)."""
    y, x = np.mgrid[:size, :size]
    img = (((y - (size - 1) / 2) ** 2 + (x - (size - 1) / 2) ** 2) <= radius**2) * 255
    return torch.from_numpy(np.repeat(img[None, ..., None], n, 0).astype(np.uint8))


def test_no_warp_is_the_identity() -> None:
    images = disk()
    assert warp_batch(images, 0.0, 0.0, 0.0, 3.0, torch.Generator()) is images
    assert shift_batch(images, 0, torch.Generator()) is images


def test_warp_is_seeded_and_keeps_shape() -> None:
    images = disk(8)
    a = warp_batch(images, 20.0, 0.2, 2.0, 3.0, torch.Generator().manual_seed(1))
    b = warp_batch(images, 20.0, 0.2, 2.0, 3.0, torch.Generator().manual_seed(1))
    c = warp_batch(images, 20.0, 0.2, 2.0, 3.0, torch.Generator().manual_seed(2))
    assert a.dtype == torch.uint8 and a.shape == images.shape
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_rotation_keeps_a_centred_disk_and_elastic_moves_it() -> None:
    """A centred disk is rotation-invariant (up to resampling at its rim); elastic distortion
    of a few pixels is not."""
    images = disk(8)
    rotated = warp_batch(images, 45.0, 0.0, 0.0, 3.0, torch.Generator().manual_seed(0))
    warped = warp_batch(images, 0.0, 0.0, 3.0, 3.0, torch.Generator().manual_seed(0))
    changed = (rotated.int() - images.int()).abs().gt(128).sum(dim=(1, 2, 3))
    moved = (warped.int() - images.int()).abs().gt(128).sum(dim=(1, 2, 3))
    assert changed.float().mean() * 4 < moved.float().mean()  # seeded: about 4.5 vs 36 pixels
    assert changed.max() <= 0.15 * float(images[0].gt(128).sum())


def test_zoom_changes_the_disk_area() -> None:
    images = disk(16)
    zoomed = warp_batch(images, 0.0, 0.3, 0.0, 3.0, torch.Generator().manual_seed(0))
    area = zoomed.gt(128).sum(dim=(1, 2, 3)).float()
    base = float(images[0].gt(128).sum())
    # zoom factors lie in [0.7, 1.3]: areas within [0.7^2, 1.3^2] of the original, not all equal
    assert area.min() >= 0.45 * base and area.max() <= 1.75 * base and area.std() > 5


def test_shift_translates_within_range() -> None:
    images = disk(32, radius=4.0)
    shifted = shift_batch(images, 2, torch.Generator().manual_seed(0))
    for src, out in zip(images, shifted, strict=True):
        assert int(out.sum()) == int(src.sum())  # the disk stays inside the frame
        ys, xs = torch.nonzero(out[..., 0], as_tuple=True)
        y0, x0 = torch.nonzero(src[..., 0], as_tuple=True)
        dy, dx = float(ys.float().mean() - y0.float().mean()), float(xs.float().mean() -
                                                                      x0.float().mean())
        assert abs(dy) <= 2 and abs(dx) <= 2 and dy == round(dy) and dx == round(dx)


def test_lr_schedule_warms_up_then_decays() -> None:
    total, warmup = 100, 10
    factors = [_lr_factor(s, total, warmup) for s in range(total)]
    assert factors[:warmup] == pytest.approx([(s + 1) / warmup for s in range(warmup)])
    assert factors[warmup] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[warmup:], factors[warmup + 1:], strict=False))
    assert _lr_factor(total, total, warmup) == pytest.approx(0.0, abs=1e-12)
    assert _lr_factor(55, total, 10) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))


def test_calibrate_bn_sets_exact_statistics(tmp_path) -> None:
    """With no augmentation, the first block's running mean and variance become the mean and
    (unbiased) variance of its accumulators over the images, per channel."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG.format(extra="shift = 0"))
    spec = load_config(cfg)
    torch.manual_seed(0)
    model = EBNN(spec)
    images = load_dataset("mnist").images[:200]
    calibrate_bn(model, images, spec.train, passes=1, batch=64)
    block = model.blocks[0]
    with torch.no_grad():
        acc = block.accumulate(EBNN.pixels(torch.from_numpy(images))).double() / 255.0
    mean = acc.mean(dim=(0, 2, 3))
    var = acc.var(dim=(0, 2, 3), unbiased=True)
    assert torch.allclose(block.bn.running_mean.double(), mean, rtol=1e-5, atol=1e-6)
    assert torch.allclose(block.bn.running_var.double(), var, rtol=1e-4, atol=1e-6)


# test_ebnn_cli's small model, with the [train] table open for the option under test.
CONFIG = SMALL.split("[train]")[0] + """[train]
epochs = 2
batch_size = 64
lr = 0.01
seed = 3
{extra}
"""

FULL_RECIPE = """shift = 1
rotate = 8.0
scale = 0.1
elastic = 1.0
elastic_sigma = 2.0
label_smoothing = 0.1
warmup = 0.5
weight_decay = 1e-5
init = 0.1
bn_lr = 0.005
bn_momentum = 0.2
bn_calibrate = 1"""


def test_full_recipe_trains_and_is_recorded(tmp_path) -> None:
    cfg = tmp_path / "r.toml"
    cfg.write_text(CONFIG.format(extra=FULL_RECIPE))
    spec = load_config(cfg)
    tr, val = split_train_val(load_dataset("mnist"), 0.1, 0)
    tr = type(tr)(tr.name, tr.images[::4], tr.labels[::4], tr.classes, tr.source)  # all classes
    model, history = train(spec, tr, val, tmp_path / "r.pt")
    assert all(np.isfinite(history.train_loss)) and history.val_acc[-1] > 0.5
    assert all(b.bn.momentum == 0.2 for b in model.blocks)
    recorded = load_checkpoint(tmp_path / "r.pt")["config"]["train"]
    assert recorded["elastic"] == 1.0 and recorded["bn_calibrate"] == 1


@pytest.mark.parametrize("line, words", [
    ("rotate = 120.0", "rotate"), ("scale = 1.0", "scale"), ("elastic = -1.0", "elastic"),
    ("label_smoothing = 1.0", "label_smoothing"), ("bn_calibrate = -1", "bn_calibrate"),
    ("bn_momentum = 0.0", "bn_momentum"), ("init = 0.0", "init"),
    ("distill = 0.5", "distill"),  # removed option: unknown now
    ("shift = 28", "shift 28 moves the input by up to all of its rows and columns"),
])
def test_bad_recipe_options_are_rejected(tmp_path, line: str, words: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(CONFIG.format(extra=line))
    with pytest.raises(ConfigError, match=words):
        load_config(cfg)


def test_recipe_defaults_change_nothing() -> None:
    spec = TrainSpec()
    assert (spec.rotate, spec.scale, spec.elastic, spec.label_smoothing, spec.warmup,
            spec.bn_calibrate) == (0.0, 0.0, 0.0, 0.0, 0.0, 0)


@pytest.mark.parametrize("samples", [33, 65])
def test_a_last_batch_of_one_sample_joins_the_one_before(tmp_path, samples: int) -> None:
    """33 samples in batches of 32 ended on a batch of one: batch norm raised (a traceback
    from `ebnn train` on 81 clips in batches of 16)."""
    cfg = tmp_path / "b.toml"
    cfg.write_text(CONFIG.format(extra="").replace("epochs = 2", "epochs = 1")
                   .replace("batch_size = 64", "batch_size = 32"))
    spec = load_config(cfg)
    tr, val = split_train_val(load_dataset("mnist"), 0.1, 0)
    tr = type(tr)(tr.name, tr.images[:samples], tr.labels[:samples], tr.classes, tr.source)
    _, history = train(spec, tr, val, tmp_path / "b.pt")
    assert len(history.train_loss) == 1 and np.isfinite(history.train_loss[0])


def test_steps_per_epoch() -> None:
    from ebnn.train import _steps

    # 33 -> one step of 33; 65 -> 32 and 33; otherwise ceil(n / batch)
    assert [_steps(n, 32) for n in (1, 2, 32, 33, 34, 64, 65, 96)] == [1, 1, 1, 1, 2, 2, 2, 3]


def test_batches_of_one_are_refused(tmp_path) -> None:
    cfg = tmp_path / "one.toml"
    cfg.write_text(CONFIG.format(extra="").replace("batch_size = 64", "batch_size = 1"))
    with pytest.raises(ConfigError, match="batch_size must be >= 2"):
        load_config(cfg)
