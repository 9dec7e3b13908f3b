"""A viewer that speaks Streamlit's own protocol, so that hundreds fit on one machine.

A browser tab of a Streamlit app is a websocket to `/_stcore/stream` carrying protobuf messages of the installed
`streamlit` package: the tab sends `BackMsg`s (rerun the script with these widget values), the server answers with
`ForwardMsg`s (a new session, the page's elements as deltas, the run's end). An `st.image` element carries either
a `/media/...` URL that the tab then fetches over HTTP, or the picture itself as a `data:` URL (this app's frames:
explorer/compute.picture), which arrives with the message. `Viewer` does the same, without
rendering anything: it opens a session, keeps the widgets and images the server sends, moves a slider (rerunning
only its fragment, as the browser does) and waits for the new image and its bytes. What it does not do is the
browser's layout and painting, which a real audience's own laptops do.

    viewer = Viewer("http://127.0.0.1:8501")
    await viewer.open()                      # the first run of the page, finished
    seconds = await viewer.move("alpha (0 = A, 1 = B)", 0.51, shows="at alpha 0.51")
    await viewer.close()
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import time
from urllib.parse import urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates

MAX_MESSAGE = 64 << 20  # a page's largest message (a Plotly figure, a component's payload) is far below this


class ViewerError(RuntimeError):
    """What a person would see as a broken page: an exception shown, a lost connection, an image that does not load."""


@dataclasses.dataclass
class Widget:
    id: str
    kind: str  # the Element field: "slider", "checkbox", ...
    fragment_id: str  # "" outside a fragment


@dataclasses.dataclass
class Shown:
    """An image element as it arrived: its URL (media or data:), caption, and when (time.perf_counter())."""

    url: str
    caption: str
    at: float


def _data_bytes(url: str) -> bytes:
    """The bytes of a base64 data: URL, or ViewerError (what a browser would show as a broken image)."""
    header, _, payload = url.partition(",")
    try:
        if not header.endswith(";base64"):
            raise ValueError("not base64")
        return base64.b64decode(payload, validate=True)
    except (ValueError, binascii.Error) as error:
        raise ViewerError(f"an image's data: URL does not decode ({error})") from None


class Viewer:
    """One browser tab's conversation with a Streamlit server, without the browser."""

    def __init__(self, url: str, query: str = ""):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.origin = f"http://{parts.netloc}"
        self.query = query
        self.widgets: dict[str, Widget] = {}  # by label
        self.images: list[Shown] = []
        self.errors: list[str] = []
        self.received_bytes = 0
        self._values: dict[str, WidgetState] = {}  # what this viewer has set, sent with every rerun
        self._page_hash = ""
        self._finished = asyncio.Event()
        self._changed = asyncio.Event()
        self._socket = None
        self._reader: asyncio.Task | None = None
        self._http: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None  # kept alive for the images

    async def open(self, timeout: float = 120.0) -> float:
        """Connect and run the page once, as a tab opening the address; seconds until the run finished."""
        begun = time.perf_counter()
        self._socket = await websockets.connect(f"ws://{self.host}:{self.port}/_stcore/stream",
                                                subprotocols=["streamlit"], origin=self.origin,
                                                max_size=MAX_MESSAGE, open_timeout=timeout, ping_interval=None)
        self._reader = asyncio.create_task(self._read())
        await self._rerun()
        await self._until(self._finished.is_set, timeout, "the first run of the page")
        return time.perf_counter() - begun

    async def move(self, label: str, value: float, shows: str, timeout: float = 30.0) -> float:
        """Set the slider `label` to `value` (rerunning its fragment only, if it is in one), wait for an image whose
        caption contains `shows` and fetch it from the media endpoint (a data: URL came with the message); seconds
        from the message sent to the bytes received."""
        widget = self.widgets.get(label)
        if widget is None:
            raise ViewerError(f"no slider {label!r} on the page")
        state = WidgetState(id=widget.id)
        state.double_array_value.data.append(value)
        self._values[widget.id] = state
        seen = len(self.images)
        begun = time.perf_counter()
        await self._rerun(fragment_id=widget.fragment_id)

        def arrived() -> Shown | None:
            return next((image for image in self.images[seen:] if shows in image.caption), None)

        await self._until(lambda: arrived() is not None, timeout, f"an image showing {shows!r}")
        await self.fetch(arrived().url, timeout)
        return time.perf_counter() - begun

    async def fetch(self, path: str, timeout: float = 30.0) -> bytes:
        """GET a media URL of the server, as the browser's <img> does, over this viewer's one kept-alive HTTP/1.1
        connection (a browser reuses its connections too; a fresh one per image would cost the server a TCP
        accept and close each time); the body, or ViewerError. A data: URL is decoded here: its bytes are in
        the message already."""
        if path.startswith("data:"):
            return _data_bytes(path)

        async def get() -> bytes:
            for attempt in range(2):  # a kept connection the server has since closed: once more, on a fresh one
                if self._http is None:
                    self._http = await asyncio.open_connection(self.host, self.port)
                reader, writer = self._http
                try:
                    writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode())
                    await writer.drain()
                    head = await reader.readuntil(b"\r\n\r\n")
                except (OSError, asyncio.IncompleteReadError):
                    self._drop_http()
                    if attempt:
                        raise
                    continue
                status, *lines = head.decode("latin-1").split("\r\n")
                headers = {name.strip().lower(): value.strip()
                           for name, _, value in (line.partition(":") for line in lines if line)}
                if "content-length" not in headers:  # chunked or until-close: not what the media endpoint sends
                    self._drop_http()
                    raise ViewerError(f"{path}: {status} without a Content-Length")
                body = await reader.readexactly(int(headers["content-length"]))
                if headers.get("connection", "").lower() == "close":
                    self._drop_http()
                if " 200 " not in status + " ":
                    raise ViewerError(f"{path}: {status}")
                return body

        try:
            return await asyncio.wait_for(get(), timeout)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
            self._drop_http()
            raise ViewerError(f"{path}: {type(error).__name__}") from None

    def _drop_http(self) -> None:
        if self._http is not None:
            self._http[1].close()
            self._http = None

    async def close(self) -> None:
        self._drop_http()
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _rerun(self, fragment_id: str = "") -> None:
        self._finished.clear()
        message = BackMsg(rerun_script=ClientState(
            query_string=self.query, page_script_hash=self._page_hash, fragment_id=fragment_id,
            widget_states=WidgetStates(widgets=list(self._values.values()))))
        await self._socket.send(message.SerializeToString())

    async def _until(self, condition, timeout: float, what: str) -> None:
        deadline = time.perf_counter() + timeout
        while True:
            if self.errors:  # before the condition: an exception and the run's end may arrive together
                raise ViewerError(self.errors[0])
            if condition():
                return
            if self._reader.done():
                raise ViewerError(f"the connection closed while waiting for {what}")
            left = deadline - time.perf_counter()
            if left <= 0:
                raise ViewerError(f"timed out after {timeout:g} s waiting for {what}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def _read(self) -> None:
        try:
            async for data in self._socket:
                self.received_bytes += len(data)
                message = ForwardMsg()
                message.ParseFromString(data)
                self._take(message)
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self._changed.set()

    def _take(self, message: ForwardMsg) -> None:
        kind = message.WhichOneof("type")
        if kind == "new_session":
            self._page_hash = message.new_session.page_script_hash
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            self._element(message.delta.new_element, message.delta.fragment_id)
        elif kind == "script_finished":
            self._finished.set()
        elif kind == "page_info_changed":
            self.query = message.page_info_changed.query_string

    def _element(self, element, fragment_id: str) -> None:
        kind = element.WhichOneof("type")
        if kind == "exception":
            self.errors.append(f"the page shows an exception: {element.exception.type}: {element.exception.message}")
        elif kind == "imgs":
            now = time.perf_counter()
            self.images.extend(Shown(image.url, image.caption, now) for image in element.imgs.imgs)
        elif kind is not None:
            widget = getattr(element, kind)
            if hasattr(widget, "label") and hasattr(widget, "id") and widget.id:
                self.widgets[widget.label] = Widget(widget.id, kind, fragment_id)
