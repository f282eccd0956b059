import pytest
import torch

from mnist_core.core.config import BenchConfig
from mnist_core.core.data import DatasetLocation, MnistData
from mnist_core.core.loaders import ResidentLoader, make_dataloader
from mnist_core.core.models import MnistCNN, MnistMLP, build_model, parameter_count
from mnist_core.core.loaders import prepare_torch, holdout_loader, train_loader, train_split, val_loader
from mnist_core.core.models import make_optimizer
from mnist_core.core.train import evaluate, fit, time_to_accuracy, train_epoch

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


def test_same_sample_order_gives_the_same_weights_through_either_pipeline(fashion):
    """What must hold between the two pipelines: fed the same samples in the same order, the same model
    ends with the same weights (float tolerance), because both hand the step bit-identical batches.
    Their usual runs differ only in sample order, so their accuracies differ by chance, not by pipeline."""
    order = torch.randperm(len(fashion.train_labels), generator=torch.Generator().manual_seed(0))[:12_800]
    dataloader = make_dataloader(fashion.train_images, fashion.train_labels, order, device=CPU, batch_size=128,
                                 shuffle=False, num_workers=0, pin_memory=False, non_blocking=False, seed=0)
    resident = ResidentLoader.from_host(fashion.train_images, fashion.train_labels, order, device=CPU,
                                        batch_size=128, shuffle=False, seed=0)
    weights = []
    for batches in (dataloader, resident):
        torch.manual_seed(0)
        model = build_model("mlp")
        train_epoch(model, make_optimizer(model, 0.5, CPU), batches, CPU)
        weights.append(model.state_dict())
    for name in weights[0]:
        torch.testing.assert_close(weights[0][name], weights[1][name], msg=name)


@pytest.mark.parametrize("loader", ["dataloader", "resident"])
def test_each_pipeline_reaches_its_own_accuracy_target(fashion, loader, test_seed):
    """Seed-bound: the tutorial MLP reaches 0.80 validation accuracy on Fashion-MNIST within 6 epochs through
    either pipeline. At the tutorial's lr 0.5 one epoch's accuracy swings by up to 9 points, so the test asks
    for the first epoch at the target, not for the last epoch's value (measured: by epoch 4 at the latest over
    seeds 0-5 and 1 or 2 torch threads; see docs/developing.md, seeds and threads)."""
    config = BenchConfig(dataset="fashion-mnist", loader=loader, num_workers=0, seed=test_seed)
    prepare_torch(config)
    split = train_split(config, fashion)
    model = build_model(config.model)
    result = time_to_accuracy(0.80, 6, model, make_optimizer(model, config.lr, CPU),
                              train_loader(config, fashion, split), val_loader(config, fashion, split), CPU)
    assert result.reached, [round(record.val.accuracy, 3) for record in result.history]


def digits_accuracy(images: torch.Tensor, labels: torch.Tensor, seed: int) -> float:
    """The MLP trained 8 epochs on the first 8,000 real test digits: its accuracy on the other 2,000
    (scripts/test-audit.sh runs it over more seeds and thread counts)."""
    location = DatasetLocation("mnist", "mnist-t10k", "given", False)
    data = MnistData(images[:8000], labels[:8000], images[8000:], labels[8000:], location)
    config = BenchConfig(loader="resident", batch_size=64, seed=seed)
    prepare_torch(config)
    model = build_model("mlp")
    optimizer = make_optimizer(model, config.lr, CPU)
    train = ResidentLoader.from_host(data.train_images, data.train_labels, torch.arange(8000), device=CPU,
                                     batch_size=64, shuffle=True, seed=seed)
    for _ in range(8):
        train_epoch(model, optimizer, train, CPU)
    return evaluate(model, holdout_loader(config, data), CPU).accuracy


def test_real_handwritten_digits(mnist_t10k, test_seed):
    """Seed-bound: 8 epochs on 8,000 real digits reach 0.90 on the other 2,000 (see docs/developing.md, seeds and threads)."""
    assert digits_accuracy(*mnist_t10k, test_seed) >= 0.90


def test_epoch_stats_are_numbers(fashion):
    """A training pass counts samples and time only (the tutorial's step keeps no metrics); loss and
    accuracy come from evaluation."""
    config = BenchConfig(dataset="fashion-mnist", loader="resident")
    prepare_torch(config)
    split = train_split(config, fashion)
    model = build_model("mlp")
    stats = train_epoch(model, make_optimizer(model, config.lr, CPU), train_loader(config, fashion, split), CPU)
    assert stats.samples == 50_000 and stats.seconds > 0 and stats.samples_per_s > 0
    assert stats.loss is None and stats.accuracy is None
    val = evaluate(model, val_loader(config, fashion, split), CPU)
    assert val.samples == 10_000 and 0 < val.loss < 2.3 and 0.1 < val.accuracy <= 1


def test_time_to_accuracy_stops_at_target(fashion, test_seed):
    """Seed-bound: 0.75 validation accuracy within 4 epochs (see docs/developing.md, seeds and threads)."""
    config = BenchConfig(dataset="fashion-mnist", loader="resident", seed=test_seed)
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


def test_same_seed_same_first_epoch_loss(fashion, test_seed):
    def first_epoch_loss(seed):
        config = BenchConfig(dataset="fashion-mnist", loader="dataloader", num_workers=0, seed=seed)
        prepare_torch(config)
        split = train_split(config, fashion)
        model = build_model("mlp")
        train_epoch(model, make_optimizer(model, config.lr, CPU), train_loader(config, fashion, split), CPU)
        return evaluate(model, val_loader(config, fashion, split), CPU).loss

    assert first_epoch_loss(test_seed) == pytest.approx(first_epoch_loss(test_seed), abs=1e-6)
    assert first_epoch_loss(test_seed) != pytest.approx(first_epoch_loss(test_seed + 1), abs=1e-6)


def test_accuracy_warm_up_leaves_the_model_and_random_state_alone(fashion):
    from mnist_core.measure.accuracy import warm_up_device

    config = BenchConfig(dataset="fashion-mnist", loader="resident", num_workers=0, pin_memory=False,
                         non_blocking=False)
    torch.manual_seed(0)
    model = build_model("mlp")
    before = {name: weight.clone() for name, weight in model.state_dict().items()}
    rng = torch.get_rng_state()
    warm_up_device(model, config, fashion, train_split(config, fashion).train_indices)
    assert all(torch.equal(before[name], weight) for name, weight in model.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng)
