"""Links and embed codes of an upload, as the upload page and the viewer offer them.

Chevereto's set: the viewer, direct, thumbnail, medium and delete links; and for each size
(full, medium, thumbnail) HTML, Markdown and BBCode, alone or linked to the viewer. One
builder for both pages, so a code copied from either is the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from django.http import HttpRequest

from uploads.files import variant_file
from uploads.models import Image
from uploads.representation import delete_path
from uploads.selectors import image_viewer_path


@dataclass(frozen=True)
class Code:
    group: str  # "Links", "HTML", "Markdown", "BBCode"
    label: str
    value: str

    def as_dict(self) -> dict[str, str]:
        return {"group": self.group, "label": self.label, "value": self.value}


def _markdown_safe(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def image_codes(
    image: Image, request: HttpRequest, *, delete_token: str | None = None
) -> list[Code]:
    """Every link and embed code of `image`, absolute URLs on this site."""
    absolute = request.build_absolute_uri
    viewer = absolute(image_viewer_path(image))
    files = {v: variant_file(image, v) for v in ("image", "thumb", "medium", "frame")}
    full = absolute("/" + image.path)
    # A video embeds as its frame (the still); a small picture has no medium size.
    still = files["frame"] if image.is_video else files["image"]
    full_still = absolute("/" + still.name) if still else full
    medium = absolute("/" + files["medium"].name) if files["medium"] else full_still
    thumb = absolute("/" + files["thumb"].name) if files["thumb"] else full_still
    title = image.title or image.original_filename or "image"

    codes = [
        Code("Links", "Viewer link", viewer),
        Code("Links", "Direct link", full),
        Code("Links", "Thumbnail link", thumb),
    ]
    if files["medium"]:
        codes.append(Code("Links", "Medium link", medium))
    if delete_token:
        codes.append(Code("Links", "Delete link", absolute(delete_path(image, delete_token))))
    alt_html = escape(title, quote=True)
    alt_md = _markdown_safe(title)
    sizes = [("full", full_still), ("medium", medium), ("thumbnail", thumb)]
    for size, src in sizes:
        codes.append(Code("HTML", f"HTML {size}", f'<img src="{src}" alt="{alt_html}">'))
        codes.append(
            Code(
                "HTML",
                f"HTML {size} linked",
                f'<a href="{viewer}"><img src="{src}" alt="{alt_html}"></a>',
            )
        )
    for size, src in sizes:
        codes.append(Code("Markdown", f"Markdown {size}", f"![{alt_md}]({src})"))
        codes.append(Code("Markdown", f"Markdown {size} linked", f"[![{alt_md}]({src})]({viewer})"))
    for size, src in sizes:
        codes.append(Code("BBCode", f"BBCode {size}", f"[img]{src}[/img]"))
        codes.append(
            Code("BBCode", f"BBCode {size} linked", f"[url={viewer}][img]{src}[/img][/url]")
        )
    return codes
