"""One record per pipeline kind (BenchConfig.loader): everything the suite decides per kind, in one place.

Building, measuring, the matrix, the rules and the report all read these records instead of naming kinds.
Adding a pipeline is its module (a `trainer_for`, when it owns its steps) and one record in PIPELINES.
No torch here: the reading commands (compare, check, report) read the records too.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

DATALOADER_SETTINGS = ("num_workers", "pin_memory", "non_blocking")  # act only where a DataLoader feeds the batches
REPLAY_SETTING = "steps_per_replay"  # acts only where several steps are replayed per CUDA graph


@dataclass(frozen=True)
class Pipeline:
    name: str  # BenchConfig.loader and the ids' pipeline part
    words: str  # the report's plain words for it; {where} is the device, e.g. "data resident on the {where}"
    family: str  # its series in the charts (legend name), with its colour and marker (distinct Okabe-Ito hues)
    colour: str
    marker: str
    dataloader: bool = False  # batches come through torch's DataLoader (workers, pinning, non_blocking act)
    replays: bool = False  # on CUDA, steps_per_replay steps per CUDA graph replay
    trainer: str | None = None  # module whose trainer_for() owns its steps; None: eager train_step over its batches
    needs_cuda_for: str | None = None  # why it runs only on CUDA; None: any device
    cpu_stand_in: str | None = None  # what runs in its place on the CPU (the config error and the crossover name it)
    captured: bool = False  # on CUDA its step time is bounded by kernel launches: count them per step
    crossover: str | None = None  # its line in the GPU-vs-CPU comparison by batch size; None: not compared
    swept: bool = False  # the matrix runs it at each of the profile's batch sizes, as it is (no settings of its own)
    bare_loop: bool = False  # measure/bare_loop.py writes its loop from scratch: the suite's overhead is checked on it
    rules: tuple[str, ...] = ()  # the setting rules (regress/rules.py) that test its rows

    @property
    def inert_fields(self) -> tuple[str, ...]:
        """Settings that cannot act on it on any device (BenchConfig fixes them off)."""
        return (DATALOADER_SETTINGS if not self.dataloader else ()) + ((REPLAY_SETTING,) if not self.replays else ())

    def build_trainer(self, config, model, optimizer, images_u8, labels):
        """Its trainer, capturing or compiling its step now (imports torch)."""
        return import_module(self.trainer).trainer_for(config, model, optimizer, images_u8, labels)


DATALOADER = Pipeline(
    "dataloader", words="DataLoader", family="DataLoader", colour="#0072b2", marker="o", dataloader=True,
    crossover="DataLoader (each device's fastest setting)", bare_loop=True, rules=("pinned-nb", "workers"))
RESIDENT = Pipeline(  # the whole split on the device as uint8, batches from a device-side permutation
    "resident", words="data resident on the {where}", family="resident", colour="#009e73", marker="s",
    crossover="resident data, eager step", swept=True, bare_loop=True, rules=("resident",))
RESIDENT_GRAPH = Pipeline(  # resident, the whole step captured in one CUDA graph
    "resident-graph", words="data resident on the {where}, step in a CUDA graph", family="CUDA graph",
    colour="#cc79a7", marker="D", trainer="mnist_core.core.graph", needs_cuda_for="CUDA graphs",
    cpu_stand_in=RESIDENT.name, captured=True, crossover="CUDA graph on the GPU vs resident data on the CPU", swept=True)
RESIDENT_COMPILED = Pipeline(  # resident, the step compiled (torch.compile), on CUDA K steps per graph replay
    "resident-compiled", words="data resident on the {where}, step compiled", family="compiled", colour="#6a3d9a",
    marker="^", replays=True, trainer="mnist_core.core.compiled", captured=True)

PIPELINES = {pipeline.name: pipeline for pipeline in (DATALOADER, RESIDENT, RESIDENT_GRAPH, RESIDENT_COMPILED)}
