"""Keep docs/performance.md current: each bench owns a section between markers."""
from __future__ import annotations

from pathlib import Path


def update_section(path: Path, name: str, text: str) -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    doc = path.read_text() if path.exists() else "# Performance\n"
    block = f"{start}\n{text.rstrip()}\n{end}"
    if start in doc and end in doc:
        pre, rest = doc.split(start, 1)
        _, post = rest.split(end, 1)
        doc = pre + block + post
    else:
        doc = doc.rstrip() + f"\n\n## {name}\n\n{block}\n"
    path.write_text(doc)
