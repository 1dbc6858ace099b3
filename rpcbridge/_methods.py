"""Python methods the host may call: a registry filled by decorators, pygls-style.

::

    methods = rpcbridge.Methods()

    @methods.register("py.add")
    def add(params):
        return params["a"] + params["b"]

    async with rpcbridge.open_bridge(methods=methods) as bridge:
        ...

A handler takes the request's ``params`` (a dict, a list or ``None``) and returns a JSON value;
it may be a plain function (run inline on the event loop: keep it quick) or an ``async``
function (run as a task in the bridge's task group, on the bridge's loop: trio or asyncio). The same registry serves requests and
notifications. Registering before the bridge starts means no early message is missed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeAlias, TypeVar

__all__ = ["Handler", "Methods"]

Handler: TypeAlias = Callable[[Any], Any] | Callable[[Any], Awaitable[Any]]
H = TypeVar("H", bound=Handler)


class Methods:
    """A name -> handler registry for requests and notifications from the host."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, name: str) -> Callable[[H], H]:
        """Decorator: make the function the handler of ``name``. A name can be taken once."""
        if not isinstance(name, str) or not name:
            raise TypeError("a method name must be a non-empty string")

        def decorate(handler: H) -> H:
            self.add(name, handler)
            return handler

        return decorate

    def add(self, name: str, handler: Handler) -> None:
        """Register ``handler`` for ``name``; raises ``ValueError`` if the name is taken."""
        if name in self._handlers:
            raise ValueError(f"a handler for {name!r} is already registered")
        self._handlers[name] = handler

    def get(self, name: str) -> Handler | None:
        """The handler of ``name``, or ``None``."""
        return self._handlers.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._handlers

    def __iter__(self) -> Iterator[str]:
        return iter(self._handlers)

    def __len__(self) -> int:
        return len(self._handlers)
