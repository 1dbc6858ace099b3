"""Compiler diagnostics as values: what ``compile`` reports, ready for Python code and people.

The host normalises both engines (esbuild counts UTF-8 bytes, TypeScript UTF-16 units) to
1-based lines and 1-based columns counted in Unicode code points, so in Python
``d.line_text[d.column - 1]`` is the character the diagnostic points at. ``Diagnostic.render``
prints one the way compilers do, with the caret under that character even when wide (CJK,
emoji) characters come before it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["Diagnostic", "Note"]


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@attrs.frozen(kw_only=True)
class Note:
    """Extra context attached to a diagnostic (say, where the opening tag is)."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    line_text: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Note:
        """Build a note from the host's JSON object (unknown members are ignored)."""
        return cls(
            message=str(data.get("message", "")),
            file=_opt_str(data.get("file")),
            line=_opt_int(data.get("line")),
            column=_opt_int(data.get("column")),
            line_text=_opt_str(data.get("lineText")),
        )


@attrs.frozen(kw_only=True)
class Diagnostic:
    """One error or warning from the compiler.

    ``line`` and ``column`` are 1-based; ``column`` counts code points of ``line_text``.
    ``end_line``/``end_column`` mark the end of the span (exclusive). ``code`` is the engine's
    identifier, such as ``"TS1005"``, when it has one.
    """

    severity: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    line_text: str | None = None
    code: str | None = None
    notes: tuple[Note, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Diagnostic:
        """Build a diagnostic from the host's JSON object (unknown members are ignored)."""
        notes = data.get("notes")
        return cls(
            severity=str(data.get("severity", "error")),
            message=str(data.get("message", "")),
            file=_opt_str(data.get("file")),
            line=_opt_int(data.get("line")),
            column=_opt_int(data.get("column")),
            end_line=_opt_int(data.get("endLine")),
            end_column=_opt_int(data.get("endColumn")),
            line_text=_opt_str(data.get("lineText")),
            code=_opt_str(data.get("code")),
            notes=tuple(Note.from_json(note) for note in notes or () if isinstance(note, Mapping)),
        )

    @property
    def location(self) -> str:
        """``file:line:column`` (as much of it as is known)."""
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def render(self) -> str:
        """Compiler-style text: ``file:line:column: error: message``, the source line and a
        caret under the column, then the notes."""
        code = f" [{self.code}]" if self.code else ""
        lines = [f"{self.location}: {self.severity}: {self.message}{code}"]
        lines += _excerpt(
            self.line_text, self.column, self.end_line == self.line and self.end_column
        )
        for note in self.notes:
            where = ":".join(
                str(part) for part in (note.file, note.line, note.column) if part is not None
            )
            lines.append(f"  note: {where + ': ' if where else ''}{note.message}")
            lines += [f"  {text}" for text in _excerpt(note.line_text, note.column, None)]
        return "\n".join(lines)


def _excerpt(line_text: str | None, column: int | None, end_column: int | bool | None) -> list[str]:
    if line_text is None:
        return []
    shown = line_text.replace("\t", " ")  # one cell per tab keeps the caret aligned
    if column is None or column < 1:
        return [f"    {shown}"]
    start = _width(shown[: column - 1])
    span = 1
    if isinstance(end_column, int) and not isinstance(end_column, bool) and end_column > column:
        span = max(1, _width(shown[column - 1 : end_column - 1]))
    return [f"    {shown}", "    " + " " * start + "^" + "~" * (span - 1)]


def _width(text: str) -> int:
    """Terminal cells taken by ``text``: wide East Asian characters and emoji take two."""
    return sum(
        0
        if unicodedata.combining(ch)
        else 2
        if unicodedata.east_asian_width(ch) in ("W", "F")
        else 1
        for ch in text
    )
