"""Storage names, the way Chevereto makes them.

`images/YYYY/MM/DD/` (datefolder) or `images/` (direct); the file name is the original name
ASCII-folded, spaces turned to `-`, only `[.\\w-]`, at most 200 characters; random when the
site or the album asks for it. Derivatives insert `.th`, `.md`, `.fr` before the extension.
"""

from __future__ import annotations

import re
import secrets
import string
import unicodedata
from datetime import datetime

_ALNUM = string.ascii_letters + string.digits
_UNSAFE = re.compile(r"[^\w.-]", re.ASCII)
_DASHES = re.compile(r"-{2,}")
_MARKER_END = re.compile(r"\.(th|md|fr)$")
MAX_NAME = 200


def random_name(length: int = 16) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def clean_stem(original: str) -> str:
    """A safe file stem from a client's file name: no path, ASCII only, `[.\\w-]`."""
    base = original.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    folded = _UNSAFE.sub("", folded.strip().replace(" ", "-"))
    folded = _DASHES.sub("-", folded).strip(".-_")[:MAX_NAME]
    # A stem ending in ".th" would give an original named like another upload's thumb.
    while _MARKER_END.search(folded):
        folded = folded[:-3] + "-" + folded[-2:]
    return folded


def folder_for(when: datetime, *, storage_mode: str) -> str:
    if storage_mode == "direct":
        return "images/"
    return when.strftime("images/%Y/%m/%d/")


def derivative_name(path: str, marker: str, extension: str | None = None) -> str:
    """`images/x/cat.jpg` + `th` → `images/x/cat.th.jpg` (or with another extension)."""
    folder, _, filename = path.rpartition("/")
    stem, _, ext = filename.rpartition(".")
    name = f"{stem}.{marker}.{extension or ext}"
    return f"{folder}/{name}" if folder else name


def candidate_names(
    *, original: str, extension: str, naming: str, force_random: bool, encoded_id: str | None = None
) -> list[str]:
    """File names to try in order; the caller takes the first one free in storage."""
    stem = clean_stem(original)
    if force_random or naming == "random" or not stem:
        return [f"{random_name()}.{extension}" for _ in range(3)]
    if naming == "id" and encoded_id:
        return [f"{encoded_id}.{extension}", f"{encoded_id}-{random_name(6)}.{extension}"]
    if naming == "mixed":
        return [f"{stem[:190]}-{random_name(8)}.{extension}" for _ in range(3)]
    # "original": the name as given, then with a random suffix on collision.
    return [f"{stem}.{extension}"] + [
        f"{stem[:190]}-{random_name(6)}.{extension}" for _ in range(3)
    ]
