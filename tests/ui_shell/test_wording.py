"""Wording of the English UI: no Chinese fragments in source strings, singular for one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from app.ui.controllers.images import ImageLoader
from app.ui.widgets.cards import Card, CardData

UI = Path(__file__).resolve().parents[2] / "app" / "ui"
CJK = re.compile(r"[\u4e00-\u9fff]")
TR_CALLS = {"tr", "translate", "QT_TRANSLATE_NOOP"}


def _translatable_strings() -> list[tuple[str, str]]:
    found = []
    for path in UI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in TR_CALLS:
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.append((f"{path.relative_to(UI)}:{node.lineno}", arg.value))
    return found


def test_english_source_strings_have_no_chinese() -> None:
    """The English UI is the source language: "弹幕 Danmaku" belongs in the zh_CN translation only."""
    strings = _translatable_strings()
    assert len(strings) > 200  # the scan sees the UI's strings
    assert [f"{where}: {s}" for where, s in strings if CJK.search(s)] == []


def test_one_viewer_one_like_is_singular(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    loader = ImageLoader(cache_dir=tmp_path / "img")
    one = Card(CardData(kind="live", key="r1", title="t", userid="u", nickname="n", viewers=1, likes=1), loader)
    many = Card(CardData(kind="live", key="r2", title="t", userid="u", nickname="n", viewers=2, likes=0), loader)
    qtbot.addWidget(one)
    qtbot.addWidget(many)
    assert one.stats.toolTip() == "1 viewer, 1 like"
    assert many.stats.toolTip() == "2 viewers, 0 likes"
