"""Variable scopes for rendering: a stack of dicts searched innermost first."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping


class Context:
    def __init__(self, data: Mapping[str, Any], strict: bool = False):
        self.scopes: List[Dict[str, Any]] = [dict(data)]
        self.strict = strict

    def get(self, name: str, default: Any = None) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return default

    def set(self, name: str, value: Any) -> None:
        self.scopes[-1][name] = value

    def push(self, values: Mapping[str, Any] = ()) -> None:
        self.scopes.append(dict(values))

    def pop(self) -> None:
        if len(self.scopes) == 1:
            raise RuntimeError("cannot pop the global scope")
        self.scopes.pop()

    def __contains__(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes)
