"""eBNN blocks as torch modules.

Every block is conv/linear with binary weights, an optional max-pool over the accumulators,
batch norm and sign, the eBNN fused order. The first block reads uint8 pixels: it convolves the
exact integers ``2x - 255`` (zero padding contributes nothing), pools, and only then divides by
255, so the float model sees ``sum w * (2x/255 - 1)`` and the integer accumulator the firmware
computes is exactly 255 times it. Hidden blocks read ±1 activations; their conv sums are exact
integers too. The final block is a binary linear layer with BN giving class scores.
"""

import math
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import BackwardCFunction, FunctionCtx

from ebnn.config import ConfigError, ModelSpec
from ebnn.layers import LayerSpec, kind


class SignSTE(torch.autograd.Function):
    """sign with sign(0) = +1; straight-through gradient, cut where |x| > 1."""

    @staticmethod
    def forward(ctx: FunctionCtx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)

    @staticmethod
    def backward(ctx: BackwardCFunction, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1).to(grad.dtype)


def binary(w: torch.Tensor) -> torch.Tensor:
    """±1 weights in the forward pass, identity gradient to the latent weights."""
    b = torch.where(w >= 0, 1.0, -1.0).to(w.dtype)
    return w + (b - w).detach()


class BinaryConv2d(nn.Conv2d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, binary(self.weight), None, self.stride, self.padding)


class BinaryLinear(nn.Linear):
    """Reads its input flattened: (N, C, H, W) maps in torch's CHW order."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.flatten(1), binary(self.weight))


class Block(nn.Module):
    """op (binary weights) -> max-pool -> BN -> sign (or scores, for the output layer); the
    layer's kind builds the modules."""

    def __init__(self, layer: LayerSpec, in_shape: tuple[int, ...], first: bool) -> None:
        super().__init__()
        self.layer = layer
        self.kind = kind(layer.type, "model", ConfigError)
        self.first = first
        self.output = self.kind.is_output
        self.op, self.pool, self.bn = self.kind.build(layer, in_shape)
        nn.init.uniform_(self.op.weight, -1.0, 1.0)

    def accumulate(self, x: torch.Tensor) -> torch.Tensor:
        """Integer-valued accumulators after pooling (for the first block: times 255)."""
        acc: torch.Tensor = self.pool(self.op(x))
        return acc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        acc = self.accumulate(x)
        if self.first:
            acc = acc / 255.0
        y: torch.Tensor = self.bn(acc)
        # torch leaves Function.apply unannotated
        return y if self.output else SignSTE.apply(y)  # type: ignore[no-untyped-call]

    def clip_weights(self) -> None:
        with torch.no_grad():
            self.op.weight.clamp_(-1.0, 1.0)


class EBNN(nn.Module):
    """The whole network. ``forward`` takes uint8 images (N, H, W, C), returns class scores."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec
        blocks: list[Block] = []
        shape: tuple[int, ...] = spec.input
        for i, (layer, out_shape) in enumerate(zip(spec.layers, spec.shapes(), strict=True)):
            blocks.append(Block(layer, shape, first=i == 0))
            shape = out_shape
        blocks.append(Block(LayerSpec("output", spec.classes), shape, first=False))
        # torch's ModuleList is not generic: it yields Modules, and this one holds Blocks
        self.blocks: Iterable[Block] = nn.ModuleList(blocks)  # type: ignore[assignment]

    def inference_batch(self, cap: int = 1000, budget: int = 256 << 20) -> int:
        """Images per forward pass for evaluation: ``cap``, fewer when the float maps of that
        many (each conv's output before pooling, with the tensors beside it) would pass
        ``budget`` bytes, so memory follows the model, not the data."""
        shape: tuple[int, ...] = self.spec.input
        values = math.prod(shape)
        for layer, out in zip(self.spec.layers, self.spec.shapes(), strict=True):
            values += math.prod(out) * layer.pool[0] * layer.pool[1]
            shape = out
        per_image = 4 * 3 * values  # float32; the conv's, the batch norm's and the sign's
        return max(1, min(cap, budget // per_image))

    @staticmethod
    def pixels(images: torch.Tensor) -> torch.Tensor:
        """uint8 (N, H, W, C) -> float (N, C, H, W) holding the exact integers 2x - 255."""
        return images.permute(0, 3, 1, 2).to(torch.float32) * 2.0 - 255.0

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.pixels(images)
        for block in self.blocks:
            x = block(x)
        return x

    def clip_weights(self) -> None:
        for block in self.blocks:
            block.clip_weights()
