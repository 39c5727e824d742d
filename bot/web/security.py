"""The web surface's defences: cookie and form tokens, headers, client address, rate limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import itertools
import secrets
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

#: Every page: nothing but our own stylesheet and our own forms; never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


def new_secret() -> str:
    """A cookie value: 256 random bits."""
    return secrets.token_urlsafe(32)


def token_hash(cookie: str) -> str:
    """What the store keeps of a cookie: its SHA-256 (a stolen database opens no session)."""
    return hashlib.sha256(cookie.encode()).hexdigest()


def _mac(cookie: str, message: str) -> str:
    digest = hmac.new(cookie.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def csrf_token(cookie: str) -> str:
    """The session's form token: derived from the cookie, so nothing more is stored."""
    return _mac(cookie, "csrf")


def csrf_ok(cookie: str, sent: str) -> bool:
    return hmac.compare_digest(csrf_token(cookie), sent)


#: A nonce's unique part: this process's 96 random bits and a counter. Unguessable is
#: not needed (the HMAC stops forgery), unique is (it is a delivery id); and drawing
#: from os.urandom for every page cost ~2 ms under load (it releases the GIL).
_PROCESS = secrets.token_urlsafe(12)
_SERIAL = itertools.count(1)


def new_nonce(cookie: str, now: float | None = None) -> str:
    """A form's one-time id: unique, stamped and signed with the session's cookie.

    Its random part is the step's delivery id, so a form posted twice is one step.
    """
    stamp = int(time.time() if now is None else now)
    random = f"{_PROCESS}{next(_SERIAL):x}"
    return f"{random}.{stamp}.{_mac(cookie, f'{random}.{stamp}')}"


def nonce_delivery(cookie: str, nonce: str, max_age: float, now: float | None = None) -> str | None:
    """The delivery id of a nonce this session issued within `max_age` seconds, else None."""
    parts = nonce.split(".")
    if len(parts) != 3 or not parts[1].isdigit() or len(nonce) > 100:
        return None
    random, stamp, mac = parts
    if not hmac.compare_digest(_mac(cookie, f"{random}.{stamp}"), mac):
        return None
    age = (time.time() if now is None else now) - int(stamp)
    return random if -60 <= age <= max_age else None


class ClientAddress:
    """Who is asking: the peer, or behind a trusted proxy the address it forwarded.

    X-Forwarded-For is read right to left, skipping the trusted proxies; the first other
    address is the client's. From a peer that is not trusted the header is ignored: anyone
    can send it.
    """

    def __init__(self, trusted: Sequence[str]) -> None:
        self.trusted = [ipaddress.ip_network(n, strict=False) for n in trusted]

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def of(self, peer: str | None, forwarded_for: str | None) -> str:
        peer = peer or "unknown"
        if not forwarded_for or not self._is_trusted(peer):
            return peer
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop
        return hops[0] if hops else peer


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets in memory, one per key (an address, a link): per process, not shared.

    `rate` tokens a minute, up to `burst` at once. The oldest buckets are dropped past
    `capacity` keys, so a flood of addresses cannot grow memory without bound.
    """

    def __init__(self, rate: float, burst: float, capacity: int = 50_000) -> None:
        self.per_second = rate / 60
        self.burst = burst
        self.capacity = capacity
        self.buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        bucket = self.buckets.pop(key, None) or _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.per_second)
        bucket.at = now
        allowed = bucket.tokens >= 1
        if allowed:
            bucket.tokens -= 1
        self.buckets[key] = bucket
        while len(self.buckets) > self.capacity:
            self.buckets.popitem(last=False)
        return allowed
