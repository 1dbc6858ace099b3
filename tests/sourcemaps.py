"""A minimal source map v3 decoder for tests: which original position does a generated one
come from? (Base64 VLQ, https://sourcemaps.info/spec.html)."""

from __future__ import annotations

import json
from typing import Any

_BASE64 = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}


def _vlq_values(segment: str) -> list[int]:
    values, shift, value = [], 0, 0
    for char in segment:
        digit = _BASE64[char]
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
            continue
        values.append(-(value >> 1) if value & 1 else value >> 1)
        shift = value = 0
    return values


def decode_mappings(source_map: str | dict[str, Any]) -> list[list[tuple[int, int, int, int]]]:
    """Per generated line (0-based), its segments as
    (generated column, source index, original line, original column), all 0-based."""
    data = json.loads(source_map) if isinstance(source_map, str) else source_map
    assert data["version"] == 3
    lines: list[list[tuple[int, int, int, int]]] = []
    source = original_line = original_column = 0
    for line in data["mappings"].split(";"):
        column = 0
        segments = []
        for segment in filter(None, line.split(",")):
            fields = _vlq_values(segment)
            column += fields[0]
            if len(fields) >= 4:
                source += fields[1]
                original_line += fields[2]
                original_column += fields[3]
                segments.append((column, source, original_line, original_column))
        lines.append(segments)
    return lines


def original_line_of(source_map: str | dict[str, Any], generated_line: int) -> int:
    """The 0-based original line that the first mapped segment of a generated line comes from."""
    segments = decode_mappings(source_map)[generated_line]
    assert segments, f"generated line {generated_line} has no mapping"
    return segments[0][2]
