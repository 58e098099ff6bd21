"""Model access: the Anthropic Messages API through the real `anthropic` SDK.

`Model.ask` sends one prompt and returns a `Reply` holding the text and every
attempt it took (status, tokens, estimated cost, seconds). Rate-limit (429)
and overload (529, and other 5xx) answers are retried here, in one place,
with exponential backoff that honours `retry-after`; the SDK's own retries
are off so that each attempt is recorded. The key comes from
`ANTHROPIC_API_KEY`, the endpoint from `ANTHROPIC_BASE_URL` (the SDK reads
it), the model name from the caller (the CLI's --model or the world's
settings). With `cache` on, the system prompt (the stable prefix of every
prompt of a lineage) is sent as a text block marked `cache_control:
ephemeral`, and the tokens the API wrote to or read from its prompt cache
are recorded and priced (writes 1.25x, reads 0.1x the input price).
"""
from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .agent_errors import EvolveError, ModelError

DEFAULT_MODEL = "claude-sonnet-4-6"
MODEL_SETTING = "evolve.model"
MAX_TOKENS = 2048
SAMPLING_API_VERSION = "2023-06-01"     # the Messages API version that accepts `temperature`
TIMEOUT = 120.0             # seconds per call
RETRIES = 6                 # attempts after the first, on 429/5xx/timeouts
BACKOFF = 1.0               # seconds before the first retry; doubled each time
BACKOFF_CAP = 60.0
# Dollars per million tokens (input, output), by model-name prefix; an
# estimate for the run's accounting, not a bill.
PRICES: list[tuple[str, float, float]] = [
    ("claude-opus-4-0", 15.0, 75.0), ("claude-opus-4-1", 15.0, 75.0),
    ("claude-opus-4-2025", 15.0, 75.0), ("claude-3-opus", 15.0, 75.0),
    ("claude-opus", 5.0, 25.0), ("claude-sonnet", 3.0, 15.0), ("claude-3-7-sonnet", 3.0, 15.0),
    ("claude-3-5-sonnet", 3.0, 15.0), ("claude-haiku", 1.0, 5.0),
    ("claude-3-5-haiku", 0.8, 4.0), ("claude-3-haiku", 0.25, 1.25),
]
UNKNOWN_PRICE = (3.0, 15.0)
CACHE_WRITE = 1.25          # a prompt-cache write (5-minute cache), times the input price
CACHE_READ = 0.1            # a prompt-cache read, times the input price
CACHE_CONTROL = {"type": "ephemeral"}
NO_KEY = ("ANTHROPIC_API_KEY is not set: export ANTHROPIC_API_KEY=sk-ant-... to use a model, "
          "or run offline with --agent reference (or --agent replay:FILE)")


def price(model: str) -> tuple[float, float]:
    """Dollars per million (input, output) tokens for `model` (an estimate)."""
    for prefix, pin, pout in PRICES:
        if model.startswith(prefix):
            return pin, pout
    return UNKNOWN_PRICE


def cost(model: str, tokens_in: int, tokens_out: int, cache_write: int = 0,
         cache_read: int = 0) -> float:
    """The estimated dollars of one call (`tokens_in` excludes the cached tokens, as the API counts)."""
    pin, pout = price(model)
    return (tokens_in * pin + cache_write * pin * CACHE_WRITE + cache_read * pin * CACHE_READ
            + tokens_out * pout) / 1_000_000


@dataclass
class Attempt:
    """One HTTP call to the model: how it ended and what it used."""

    status: str                 # "ok", "rate-limited", "overloaded", "server-error", "timeout", ...
    seconds: float
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    error: str = ""
    cache_write: int = 0        # input tokens written to the prompt cache
    cache_read: int = 0         # input tokens read from it

    def as_dict(self) -> dict[str, Any]:
        """The attempt as plain data."""
        return {"status": self.status, "seconds": round(self.seconds, 4), "tokens_in": self.tokens_in,
                "tokens_out": self.tokens_out, "cost": self.cost, "error": self.error,
                "cache_write": self.cache_write, "cache_read": self.cache_read}


@dataclass
class Reply:
    """A model's answer to one prompt, with the attempts it took."""

    text: str
    model: str
    attempts: list[Attempt] = field(default_factory=list)
    stop_reason: str = ""

    @property
    def tokens_in(self) -> int:
        return sum(a.tokens_in for a in self.attempts)

    @property
    def tokens_out(self) -> int:
        return sum(a.tokens_out for a in self.attempts)

    @property
    def cache_write(self) -> int:
        return sum(a.cache_write for a in self.attempts)

    @property
    def cache_read(self) -> int:
        return sum(a.cache_read for a in self.attempts)

    @property
    def cost(self) -> float:
        return sum(a.cost for a in self.attempts)


def _retry_after(e: Any) -> float | None:
    """Seconds the server asked us to wait, if it said."""
    response = getattr(e, "response", None)
    if response is None:
        return None
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class Model:
    """A Messages-API model reached through the `anthropic` SDK."""

    def __init__(self, model: str = DEFAULT_MODEL, api_key: str | None = None,
                 base_url: str | None = None, timeout: float = TIMEOUT, retries: int = RETRIES,
                 backoff: float = BACKOFF, max_tokens: int = MAX_TOKENS,
                 temperature: float | None = None, cache: bool = False,
                 sleep: Callable[[float], Any] = time.sleep) -> None:
        import anthropic
        key = api_key if api_key is not None else os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise EvolveError(NO_KEY)
        self.name = model
        self.retries, self.backoff, self.max_tokens, self.sleep = retries, backoff, max_tokens, sleep
        self.temperature = temperature          # None: the API's default, and none is sent
        self.cache = cache                      # mark the system prompt for the prompt cache
        self.client = anthropic.Anthropic(api_key=key, base_url=base_url, timeout=timeout,
                                          max_retries=0)
        self.anthropic = anthropic

    @property
    def label(self) -> str:
        return self.name

    @property
    def endpoint(self) -> str:
        """The base URL the client talks to (ANTHROPIC_BASE_URL, or the SDK's default)."""
        return str(self.client.base_url).rstrip("/")

    def ask(self, system: str, prompt: str) -> Reply:
        """Send one prompt; retry rate limits, overloads and timeouts; return the reply."""
        a = self.anthropic
        reply = Reply("", self.name)
        for n in range(self.retries + 1):
            t0 = time.monotonic()
            wait = None
            try:
                msg = self.client.messages.create(
                    model=self.name, max_tokens=self.max_tokens, system=self._system(system),
                    **self._sampling(),
                    messages=[{"role": "user", "content": prompt}])
            except a.RateLimitError as e:
                status, wait = "rate-limited", _retry_after(e)
            except a.APIStatusError as e:
                code = e.status_code
                if code == 529:
                    status, wait = "overloaded", _retry_after(e)
                elif code >= 500:
                    status, wait = "server-error", _retry_after(e)
                else:
                    reply.attempts.append(Attempt(f"http-{code}", time.monotonic() - t0,
                                                  error=_message(e)))
                    raise ModelError(f"the model API refused the request (HTTP {code}): "
                                     f"{_message(e)}", reply) from None
            except a.APITimeoutError:
                status = "timeout"
            except a.APIConnectionError as e:
                status = "connection-error"
                reply.attempts.append(Attempt(status, time.monotonic() - t0, error=str(e)))
                if n == self.retries:
                    raise ModelError(f"cannot reach the model API: {e}", reply) from None
                self.sleep(self._delay(n, None))
                continue
            else:
                tin, tout, cw, cr = (_count(msg.usage, k) for k in (
                    "input_tokens", "output_tokens", "cache_creation_input_tokens",
                    "cache_read_input_tokens"))
                reply.attempts.append(Attempt("ok", time.monotonic() - t0, tin, tout,
                                              cost(self.name, tin, tout, cw, cr),
                                              cache_write=cw, cache_read=cr))
                reply.text = "".join(getattr(b, "text", "") for b in msg.content
                                     if getattr(b, "type", "") == "text")
                reply.stop_reason = str(getattr(msg, "stop_reason", "") or "")
                reply.model = str(getattr(msg, "model", "") or self.name)    # the one that answered
                return reply
            reply.attempts.append(Attempt(status, time.monotonic() - t0, error=status))
            if n == self.retries:
                break
            self.sleep(self._delay(n, wait))
        raise ModelError(f"the model API gave up after {len(reply.attempts)} attempts "
                         f"(last: {reply.attempts[-1].status})", reply)

    def stream(self, system: str, prompt: str, on_text: Callable[[str], Any]) -> Reply:
        """`ask`, streaming: each piece of text goes to `on_text` as it arrives. Rate limits,
        overloads and timeouts are retried as `ask` retries them, but only before any text
        arrived: once some was shown, a failure ends the call with a ModelError."""
        a = self.anthropic
        reply = Reply("", self.name)
        for n in range(self.retries + 1):
            t0 = time.monotonic()
            wait, parts = None, []
            try:
                with self.client.messages.stream(
                        model=self.name, max_tokens=self.max_tokens, system=self._system(system),
                        **self._sampling(),
                        messages=[{"role": "user", "content": prompt}]) as events:
                    for text in events.text_stream:
                        parts.append(text)
                        on_text(text)
                    msg = events.get_final_message()
            except (a.APIStatusError, a.APITimeoutError, a.APIConnectionError) as e:
                status, wait, fatal = _failure(a, e)
                reply.attempts.append(Attempt(status, time.monotonic() - t0, error=_message(e)
                                              if isinstance(e, a.APIStatusError) else str(e)))
                reply.text = "".join(parts)
                if parts:
                    raise ModelError(f"the model's answer broke off ({status}): {_message(e)}",
                                     reply) from None
                if fatal is not None:
                    raise ModelError(fatal, reply) from None
                if n == self.retries:
                    break
                self.sleep(self._delay(n, wait))
                continue
            tin, tout, cw, cr = (_count(msg.usage, k) for k in (
                "input_tokens", "output_tokens", "cache_creation_input_tokens",
                "cache_read_input_tokens"))
            reply.attempts.append(Attempt("ok", time.monotonic() - t0, tin, tout,
                                          cost(self.name, tin, tout, cw, cr),
                                          cache_write=cw, cache_read=cr))
            reply.text = "".join(parts)
            reply.stop_reason = str(getattr(msg, "stop_reason", "") or "")
            reply.model = str(getattr(msg, "model", "") or self.name)
            return reply
        raise ModelError(f"the model API gave up after {len(reply.attempts)} attempts "
                         f"(last: {reply.attempts[-1].status})", reply)

    def _system(self, system: str) -> Any:
        """The system prompt as sent: plain text, or one text block marked for the prompt cache."""
        if not self.cache or not system:
            return system
        return [{"type": "text", "text": system, "cache_control": dict(CACHE_CONTROL)}]

    def _sampling(self) -> dict[str, Any]:
        """The request's sampling options: none, or the temperature under the API version taking it."""
        if self.temperature is None:
            return {}
        # Newer SDKs dropped the parameter and their API version (2026-10-21) refuses any
        # sampling option, so it goes in the body under the last version that takes it.
        return {"extra_body": {"temperature": self.temperature},
                "extra_headers": {"anthropic-version": SAMPLING_API_VERSION}}

    def _delay(self, n: int, asked: float | None) -> float:
        """Seconds before retry `n`: the server's wish, else jittered exponential backoff."""
        if asked is not None:
            return min(asked, BACKOFF_CAP)
        return min(BACKOFF_CAP, self.backoff * 2 ** n) * random.uniform(0.5, 1.0)


def _failure(a: Any, e: Any) -> tuple[str, float | None, str | None]:
    """How a streaming call failed: (status, the wait the server asked for, the one-line
    error when it is not worth retrying, else None), as `Model.ask` classifies failures."""
    if isinstance(e, a.RateLimitError):
        return "rate-limited", _retry_after(e), None
    if isinstance(e, a.APIStatusError):
        code = e.status_code
        if code == 529:
            return "overloaded", _retry_after(e), None
        if code >= 500:
            return "server-error", _retry_after(e), None
        return f"http-{code}", None, f"the model API refused the request (HTTP {code}): {_message(e)}"
    if isinstance(e, a.APITimeoutError):
        return "timeout", None, None
    return "connection-error", None, None


def _count(usage: Any, name: str) -> int:
    """A token count of a response's usage (0 when absent, null or not a number)."""
    try:
        return max(0, int(getattr(usage, name, 0) or 0))
    except (TypeError, ValueError):
        return 0


def _message(e: Any) -> str:
    body = getattr(e, "body", None)
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
    return str(getattr(e, "message", e)).splitlines()[0]
