"""What one browser session owns, as plain data: its trainings, its models, its endpoints and views.

One SessionState lives in st.session_state (explorer.session reads and changes it; widget values aside,
which Streamlit keeps by key), so two tabs never share a training run, a model or an endpoint. Nothing
here draws or caches: process-wide resources are explorer.resources, the address bar explorer.address."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import TYPE_CHECKING

from acai.config import Config

if TYPE_CHECKING:  # TensorFlow: the Interpolate page draws its controls before it is loaded
    from acai.data import Dataset
    from acai.networks import ACAINetworks
    from explorer.live import LiveRun


@dataclasses.dataclass(frozen=True, eq=False)
class ModelEntry:
    """A model the app can use: pretrained (folder) or made in this session (session key).

    Two entries are the same model when their keys are equal (the pickers compare entries from different
    scans of pretrained/; a card's NaN metric, e.g. an undefined Smoothness, would make a field-by-field
    comparison say a model differs from itself)."""

    key: str
    label: str
    config: Config
    folder: str | None = None
    metrics: tuple = ()  # (name, value) pairs from the model card

    def __eq__(self, other) -> bool:
        return isinstance(other, ModelEntry) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def kind(self) -> str:
        return self.config.kind


Endpoint = tuple  # ("test", index into the test set) or ("upload", image (32, 32, 1))


@dataclasses.dataclass
class RunSlot:
    """Where a page keeps its live run (the Train page's model, the Race page's pair)."""

    live: LiveRun | None = None


@dataclasses.dataclass
class Notices:
    """The bad values of the opening address, to be said together in one short notice (explorer.address)."""

    problems: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)  # (name, value, why)

    def add(self, name: str, value: str, why: str) -> None:
        shown = value if len(value) <= 40 else value[:37] + "…"
        self.problems.append((name, shown, why))


@dataclasses.dataclass
class SessionState:
    """What one browser session owns."""

    training: RunSlot = dataclasses.field(default_factory=RunSlot)  # the Train page's model
    race: RunSlot = dataclasses.field(default_factory=RunSlot)  # the Race page's pair
    # Models saved or loaded here, least recently used first (explorer.session caps how many are kept).
    models: OrderedDict[str, tuple[ModelEntry, ACAINetworks]] = dataclasses.field(default_factory=OrderedDict)
    endpoints: dict[str, list[Endpoint]] = dataclasses.field(default_factory=dict)  # dataset -> [A, B]
    gallery_page: dict[str, int] = dataclasses.field(default_factory=dict)  # dataset -> page
    grid_corners: dict[str, list[int]] = dataclasses.field(default_factory=dict)  # dataset -> [C, D]
    warned: set[str] = dataclasses.field(default_factory=set)  # messages said once already
    weights_download: bytes | None = None
    eval_results: dict[str, dict] = dataclasses.field(default_factory=dict)  # model key -> metrics
    previews: dict[str, tuple[int, float]] = dataclasses.field(default_factory=dict)  # page -> (step, when)
    opening_params: dict[str, str] | None = None  # the query string the session was opened with
    views_restored: set[str] = dataclasses.field(default_factory=set)  # pages whose view it has set
    routed: bool = False  # the opening address's `page` has been honoured
    notices: Notices = dataclasses.field(default_factory=Notices)  # the opening address's bad values
    evicted: list[str] = dataclasses.field(default_factory=list)  # labels of models dropped for room, unsaid
    # The visitor's own images (uploaded .zip or .npz files), decoded: dataset name -> Dataset. In memory only.
    datasets: dict[str, Dataset] = dataclasses.field(default_factory=dict)
    uploads: dict[str, str] = dataclasses.field(default_factory=dict)  # uploaded file id -> dataset name or error
