import pytest
import torch

from mnist_core.config import BenchConfig
from mnist_core.data import DatasetLocation, MnistData
from mnist_core.loaders import ResidentLoader
from mnist_core.models import MnistCNN, MnistMLP, build_model, parameter_count
from mnist_core.pipeline import prepare_torch, holdout_loader, train_loader, train_split, val_loader
from mnist_core.train import evaluate, fit, make_optimizer, time_to_accuracy, train_epoch

CPU = torch.device("cpu")


def train_and_test(config: BenchConfig, data: MnistData, epochs: int) -> float:
    prepare_torch(config)
    split = train_split(config, data)
    model = build_model(config.model, config.hidden_width)
    fit(epochs, model, make_optimizer(model, config.lr, CPU), train_loader(config, data, split),
        val_loader(config, data, split), CPU)
    return evaluate(model, holdout_loader(config, data), CPU).accuracy


def test_models_have_the_published_shapes():
    assert parameter_count(MnistMLP()) == 784 * 32 + 32 + 32 * 10 + 10
    assert MnistCNN()(torch.zeros(5, 1, 28, 28)).shape == (5, 10)
    assert parameter_count(build_model("mlp", hidden_width=64)) == 784 * 64 + 64 + 64 * 10 + 10


def test_fashion_mnist_resident_and_dataloader_agree(fashion):
    resident = train_and_test(BenchConfig(dataset="fashion-mnist", loader="resident").collapsed(), fashion, 3)
    dataloader = train_and_test(BenchConfig(dataset="fashion-mnist", loader="dataloader").collapsed(), fashion, 3)
    assert resident >= 0.80
    assert abs(dataloader - resident) <= 0.02


def test_real_handwritten_digits(mnist_t10k):
    images, labels = mnist_t10k
    location = DatasetLocation("mnist", "mnist-t10k", "given", False)
    data = MnistData(images[:8000], labels[:8000], images[8000:], labels[8000:], location)
    config = BenchConfig(loader="resident", batch_size=64).collapsed()
    prepare_torch(config)
    model = build_model("mlp")
    optimizer = make_optimizer(model, config.lr, CPU)
    train = ResidentLoader.from_host(data.train_images, data.train_labels, torch.arange(8000), device=CPU,
                                     batch_size=64, shuffle=True, seed=0)
    for _ in range(8):
        train_epoch(model, optimizer, train, CPU)
    assert evaluate(model, holdout_loader(config, data), CPU).accuracy >= 0.90


def test_epoch_stats_are_numbers(fashion):
    config = BenchConfig(dataset="fashion-mnist", loader="resident").collapsed()
    prepare_torch(config)
    split = train_split(config, fashion)
    model = build_model("mlp")
    stats = train_epoch(model, make_optimizer(model, config.lr, CPU), train_loader(config, fashion, split), CPU)
    assert stats.samples == 50_000 and stats.seconds > 0 and stats.samples_per_s > 0
    assert 0 < stats.loss < 2.3 and 0.1 < stats.accuracy <= 1


def test_time_to_accuracy_stops_at_target(fashion):
    config = BenchConfig(dataset="fashion-mnist", loader="resident").collapsed()
    prepare_torch(config)
    split = train_split(config, fashion)
    model = build_model("mlp")
    result = time_to_accuracy(0.75, 5, model, make_optimizer(model, config.lr, CPU),
                              train_loader(config, fashion, split), val_loader(config, fashion, split), CPU)
    assert result.reached and result.val_accuracy >= 0.75
    assert result.epochs == len(result.history) < 5
    assert all(record.val.accuracy < 0.75 for record in result.history[:-1])
    with pytest.raises(ValueError, match="fraction"):
        time_to_accuracy(84, 1, model, None, [], [], CPU)


def test_same_seed_same_first_epoch_loss(fashion):
    def first_epoch_loss(seed):
        config = BenchConfig(dataset="fashion-mnist", loader="dataloader", num_workers=0, seed=seed).collapsed()
        prepare_torch(config)
        split = train_split(config, fashion)
        model = build_model("mlp")
        return train_epoch(model, make_optimizer(model, config.lr, CPU), train_loader(config, fashion, split), CPU).loss

    assert first_epoch_loss(3) == pytest.approx(first_epoch_loss(3), abs=1e-6)
    assert first_epoch_loss(3) != pytest.approx(first_epoch_loss(4), abs=1e-6)


def test_accuracy_warm_up_leaves_the_model_and_random_state_alone(fashion):
    from mnist_core.accuracy import warm_up_device

    config = BenchConfig(dataset="fashion-mnist", loader="resident", num_workers=0, pin_memory=False,
                         non_blocking=False)
    torch.manual_seed(0)
    model = build_model("mlp")
    before = {name: weight.clone() for name, weight in model.state_dict().items()}
    rng = torch.get_rng_state()
    warm_up_device(model, config, fashion, train_split(config, fashion).train_indices)
    assert all(torch.equal(before[name], weight) for name, weight in model.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng)
