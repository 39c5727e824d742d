"""The Bot API's HTTP client: python-telegram-bot's BaseRequest over aiohttp.

PTB's own HTTPXRequest cost ~1.7 ms of CPU per call here (httpx and httpcore: the pool
scan, anyio's socket attributes, per-request objects), against ~0.2 ms for the same call
through aiohttp (bench/README.md, "perf3"). Over real HTTP every reply is one or two of
these calls, so the client was most of a reply's CPU. This class is what PTB asks of a
request class (`do_request`), with HTTPXRequest's behaviour kept: the same form-encoded
or multipart bodies, the same defaults and the same errors (TimedOut, NetworkError), so
the Sender's retries and the rate limiter see no difference, and HTTPS_PROXY is honoured.
`HEARTH_TELEGRAM_CLIENT=httpx` goes back to PTB's own client.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

#: HTTPXRequest's defaults, seconds.
READ = 5.0
WRITE = 5.0
CONNECT = 5.0
POOL = 1.0
#: Uploads (a report's PDF, a chart) get longer to go out, as in HTTPXRequest.
MEDIA_WRITE = 20.0
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

# urlencode's quoting, one table look-up per byte: `urllib.parse.urlencode` quotes through
# a Python-level loop (~190 us for a question with its keyboard here), and aiohttp's
# FormData around it also built a multipart writer (a uuid4) for every call (~270 us in
# all). The bytes are the same (tests/unit/test_telegram_client.py).
_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_QUOTED = [chr(b) if b in _SAFE else "+" if b == 32 else f"%{b:02X}" for b in range(256)]


def _quote(text: str) -> str:
    return "".join(map(_QUOTED.__getitem__, text.encode()))


def form_encoded(fields: dict[str, str]) -> bytes:
    """`urllib.parse.urlencode(fields).encode()`, faster."""
    return "&".join(f"{_quote(k)}={_quote(v)}" for k, v in fields.items()).encode()


def _given(value: object, default: float | None) -> float | None:
    """A timeout passed by the caller, or ours when the caller left PTB's default."""
    if isinstance(value, DefaultValue):
        return default
    return value if value is None else float(value)  # type: ignore[arg-type]


class AiohttpRequest(BaseRequest):
    """Bot API calls over one aiohttp session with at most `connection_pool_size`
    connections (HTTP/1.1 keep-alive); a call waits up to `pool_timeout` for one."""

    def __init__(
        self,
        connection_pool_size: int = 8,
        *,
        read_timeout: float | None = READ,
        write_timeout: float | None = WRITE,
        connect_timeout: float | None = CONNECT,
        pool_timeout: float | None = POOL,
    ) -> None:
        self.size = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Built here, inside the running loop. Not trust_env: with it aiohttp reads
            # ~/.netrc and the proxy variables on a worker thread for every request (~a
            # third of the calls' CPU, measured); the proxy is looked up once per host.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.size),
                headers={"User-Agent": self.USER_AGENT},
            )

    def proxy(self, url: str) -> str | None:
        """The proxy for `url` from HTTPS_PROXY / HTTP_PROXY / NO_PROXY (as httpx honours
        them), looked up once per scheme and host."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            found = getproxies().get(parts.scheme)
            bypass = found is not None and parts.hostname and proxy_bypass(parts.hostname)
            self._proxies[key] = None if bypass else found
        return self._proxies[key]

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        body: aiohttp.FormData | bytes | None = form_encoded(fields) if fields else None
        headers = FORM if body is not None else None
        if files:
            form = aiohttp.FormData()
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, part in files.items():
                filename, content, *rest = part
                form.add_field(name, content, filename=filename,
                               content_type=rest[0] if rest else None)
            body, headers = form, None
        read = _given(read_timeout, self._read)
        write = _given(write_timeout, self._write if not files else MEDIA_WRITE)
        connect = _given(connect_timeout, self._connect)
        pool = _given(pool_timeout, self._pool)
        # aiohttp's `connect` includes waiting for a free connection of the pool; a whole
        # request must not outlast its parts (no write timeout of its own in aiohttp).
        timeout = aiohttp.ClientTimeout(
            total=None if read is None or write is None else read + write + (connect or 0)
            + (pool or 0),
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout,
                proxy=self.proxy(url)
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's own timeouts are TimeoutErrors too
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc
