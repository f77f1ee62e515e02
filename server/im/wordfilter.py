"""Word masking for group messages: a deployment list plus each room's own list.

A matched word is replaced character by character: a character of three or more UTF-8 bytes
(CJK) by ``＊``, a shorter one by ``*``, so a masked text is never longer in bytes than the
original and stays within :data:`protocol.im.MAX_TEXT_BYTES`. Matching ignores case.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import lru_cache
from typing import Any

from protocol import im


@lru_cache(maxsize=512)
def compile_words(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for a word list (longest words first), or None for an empty list."""
    clean = sorted({w for w in words if w}, key=len, reverse=True)
    if not clean:
        return None
    return re.compile("|".join(re.escape(w) for w in clean), re.IGNORECASE)


def _star(m: re.Match[str]) -> str:
    return "".join("＊" if len(ch.encode("utf-8")) >= 3 else "*" for ch in m.group())


def mask(text: str, rx: re.Pattern[str] | None) -> str:
    """``text`` with every listed word masked."""
    return rx.sub(_star, text) if rx is not None and text else text


def _mask_custom(data: str, rx: re.Pattern[str]) -> str:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return data
    inner = doc.get("data") if isinstance(doc, dict) else None
    if doc.get("cmd") == "CustomCmdMsg" and isinstance(inner, dict) and isinstance(inner.get("msg"), str):
        masked = mask(inner["msg"], rx)
        if masked != inner["msg"]:
            return im.dumps({**doc, "data": {**inner, "msg": masked}})
    return data


def _texts(elems: list[dict[str, Any]], meaning: im.AppMessage) -> list[str]:
    out = [meaning.text]
    for e in elems:
        if e.get("type") == "text":
            out.append(str(e.get("text", "")))
        elif e.get("type") == "custom" and isinstance(e.get("data"), str):
            out.append(e["data"])  # JSON text: a match here may be in any field; masking looks closer
    return out


def mask_elems(elems: list[dict[str, Any]], meaning: im.AppMessage,
               rx: re.Pattern[str] | None) -> tuple[list[dict[str, Any]], im.AppMessage]:
    """Validated elements and their meaning with listed words masked (the very same objects when
    nothing matched)."""
    if rx is None or not any(rx.search(t) for t in _texts(elems, meaning)):
        return elems, meaning
    out = []
    for e in elems:
        if e.get("type") == "text":
            out.append(im.text_elem(mask(e["text"], rx)))
        elif e.get("type") == "custom" and isinstance(e.get("data"), str):
            out.append({"type": "custom", "data": _mask_custom(e["data"], rx)})
        else:
            out.append(e)
    return out, replace(meaning, text=mask(meaning.text, rx))
