"""The tutorial MLP and a small CNN, as plain modules (no training logic, no metrics)."""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from mnist_core.errors import ConfigError

INPUT_SIZE = 28 * 28
NUM_CLASSES = 10


class MnistMLP(nn.Module):
    """784 -> hidden (ReLU) -> 10, the tutorial's model (hidden 32)."""

    def __init__(self, hidden_width: int = 32):
        super().__init__()
        self.hidden = nn.Linear(INPUT_SIZE, hidden_width)
        self.output = nn.Linear(hidden_width, NUM_CLASSES)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.output(F.relu(self.hidden(images.reshape(images.shape[0], -1))))


class MnistCNN(nn.Module):
    """conv32 -> conv64 -> maxpool -> fc128 -> fc10, the pytorch/examples mnist shape (no dropout)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(64 * 12 * 12, 128)
        self.fc2 = nn.Linear(128, NUM_CLASSES)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(images))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


def build_model(name: str, hidden_width: int = 32) -> nn.Module:
    if name == "mlp":
        return MnistMLP(hidden_width)
    if name == "cnn":
        return MnistCNN()
    raise ConfigError(f"model={name!r} is not one of mlp, cnn")


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def make_optimizer(model: nn.Module, lr: float, device: torch.device | str) -> torch.optim.Optimizer:
    """Plain SGD as in the tutorial; fused on CUDA, foreach on the CPU (same maths, fewer launches)."""
    if torch.device(device).type == "cuda":
        return torch.optim.SGD(model.parameters(), lr=lr, fused=True)
    return torch.optim.SGD(model.parameters(), lr=lr, foreach=True)


def build_training(config, device: torch.device | str) -> tuple[nn.Module, torch.optim.Optimizer]:
    """The model and optimizer `config` names, on `device`: the one place either is built."""
    model = build_model(config.model, config.hidden_width).to(device)
    return model, make_optimizer(model, config.lr, device)
