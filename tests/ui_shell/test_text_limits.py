"""Chat inputs count UTF-8 bytes like the wire (protocol.im.MAX_TEXT_BYTES), not characters."""

from __future__ import annotations

from app.ui.qt import Qt
from app.ui.widgets.golive_chat import ChatPanel
from protocol.im import MAX_TEXT_BYTES


def test_anchor_chat_input_stops_at_the_wire_byte_limit(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.set_enabled_for_live(True)
    panel.show()
    qtbot.waitExposed(panel)
    panel.input.setFocus()
    for _ in range(100):  # 300 bytes typed one character at a time (QTest cannot type non-ASCII keys)
        panel.input.insert("好")
    assert len(panel.input.text().encode("utf-8")) <= MAX_TEXT_BYTES
    assert panel.input.text() == "好" * (MAX_TEXT_BYTES // 3)  # 53 characters (159 bytes) fit
    panel.input.clear()
    panel.input.insert("好" * 60)  # a paste over the limit is refused as a whole
    assert panel.input.text() == ""
    qtbot.keyClicks(panel.input, "a" * (MAX_TEXT_BYTES + 5))
    assert panel.input.text() == "a" * MAX_TEXT_BYTES
    sent: list[str] = []
    panel.send_requested.connect(sent.append)
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    assert sent == ["a" * MAX_TEXT_BYTES]
