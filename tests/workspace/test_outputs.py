"""What a kernel sends is never shown as it came: text escaped, colours as classes, HTML
through an allow-list, active outputs dropped with a note, tracebacks trimmed to the
learner's own frames, an endless loop reported as such."""

from __future__ import annotations

import base64

from graders.workspace import CellRun
from lms.workspace.messages import notice_text, shown_outputs
from lms.workspace.outputs import ansi_html, render, render_cells, trimmed_traceback

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()


def test_text_is_escaped_and_colours_become_classes():
    html = ansi_html("\x1b[1;31m<b>bold?</b>\x1b[0m \x1b]0;title\x07\x1b[2Jplain\x07")
    assert html == '<span class="ansi-fg-1 ansi-bold">&lt;b&gt;bold?&lt;/b&gt;</span> plain'
    assert "\x1b" not in ansi_html("\x1b[38;5;200mx\x1b[48;2;1;2;3my\x1b[K")
    assert ansi_html("cut off by the cap\x1b[31") == "cut off by the cap"


def test_an_escape_flood_stays_bounded():
    html = ansi_html("\x1b[31mx" * 20000)
    assert html.count("<span") <= 5001 and "\x1b" not in html


def test_progress_bars_show_their_last_state():
    assert ansi_html("10%\r50%\r100%\ndone") == "100%\ndone"


def test_html_outputs_keep_tables_and_lose_scripts_and_handlers():
    shown = render(
        {
            "output_type": "display_data",
            "data": {
                "text/html": "<style>td{}</style><table border=1 class='dataframe'><tr>"
                "<td onclick='x()' colspan=2>1</td></tr></table><script>alert(1)</script>"
                "<a href='javascript:alert(1)'>link</a><img src=x onerror=alert(1)>",
                "text/plain": "frame",
            },
        },
        cell_timeout=10,
    )
    assert shown["kind"] == "html"
    html = shown["html"]
    assert '<td colspan="2">1</td>' in html
    for bad in ("<script", "onclick", "onerror", "javascript:", "<style", "<img", "<a"):
        assert bad not in html


def test_javascript_outputs_are_dropped_with_a_note():
    shown = render(
        {"output_type": "display_data", "data": {"application/javascript": "alert(1)"}},
        cell_timeout=10,
    )
    assert shown == {"kind": "notice", "code": "active-dropped"}


def test_images_are_data_uris_and_broken_ones_are_not_shown():
    png = render({"output_type": "display_data", "data": {"image/png": PNG}}, cell_timeout=10)
    assert png == {"kind": "image", "src": f"data:image/png;base64,{PNG}"}
    svg = render(
        {"output_type": "display_data", "data": {"image/svg+xml": "<svg><script/></svg>"}},
        cell_timeout=10,
    )
    assert svg["src"].startswith("data:image/svg+xml;base64,")  # an <img> never runs scripts
    broken = render(
        {"output_type": "display_data", "data": {"image/png": "%%%", "text/plain": "fig"}},
        cell_timeout=10,
    )
    assert broken["kind"] == "text"


def test_check_payloads_are_never_shown():
    payload = {"application/vnd.oqu.check+json": {"id": "q1", "value": 1}, "text/plain": "x"}
    assert render({"output_type": "display_data", "data": payload}, cell_timeout=10) is None


def test_tracebacks_keep_the_learners_frames_only():
    lines = [
        "\x1b[31m---------\x1b[0m",
        "\x1b[31mValueError\x1b[0m    Traceback (most recent call last)",
        "Cell \x1b[32mIn[3], line 2\x1b[0m\n----> 2 frame.fillna(bad)",
        "File \x1b[32m/opt/oqu-kernel/lib/python3.11/site-packages/pandas/core/frame.py:100\x1b[0m,"
        " in fillna(self)\n   100 raise ValueError",
        "File /usr/lib/python3.11/functools.py:12, in wrapper()",
        "\x1b[31mValueError\x1b[0m: bad value",
    ]
    kept = trimmed_traceback(lines)
    assert len(kept) == 5 and "…" in kept
    assert not any("site-packages" in line or "functools" in line for line in kept)
    assert kept[-1].endswith("bad value") and "In[3]" in kept[2]


def test_an_endless_loop_is_reported_as_such_in_the_learners_language(app):
    cell = CellRun(
        cell_id="c1",
        outputs=[
            {"output_type": "stream", "name": "stdout", "text": "started\n"},
            {
                "output_type": "error",
                "ename": "KeyboardInterrupt",
                "evalue": "",
                "traceback": ["KeyboardInterrupt"],
            },
            {
                "output_type": "error",
                "ename": "CellTimeoutError",
                "evalue": "ran too long",
                "traceback": [],
            },
        ],
    )
    stored = render_cells([cell], cell_timeout=10)
    kinds = [o["kind"] for o in stored["c1"]["outputs"]]
    assert kinds == ["stream", "notice"]  # no misleading KeyboardInterrupt
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("kk"):
        text = shown_outputs(stored)["c1"]["outputs"][1]["text"]
    assert "10 секундтан ұзақ" in text
    with app.test_request_context(), force_locale("en"):
        assert "ran longer than 10 seconds" in notice_text("timeout", {"seconds": 10})


def test_visible_checks_show_the_authors_message_in_the_learners_language(app):
    from flask_babel import force_locale

    messages = {"kk": "Медиананы алыңыз.", "ru": "Возьмите медиану.", "en": "Use the median."}
    cell = CellRun(
        cell_id="c1",
        outputs=[],
        checks=[
            {"id": "fill", "status": "failed", "messages": messages},
            {"id": "size", "status": "passed", "messages": messages},
            {"id": "twice", "status": "repeated", "messages": messages},
        ],
    )
    stored = render_cells([cell], cell_timeout=10)
    assert [o["code"] for o in stored["c1"]["outputs"]] == ["check", "check", "check"]
    with app.test_request_context(), force_locale("kk"):
        texts = [o["text"] for o in shown_outputs(stored)["c1"]["outputs"]]
    assert "Медиананы алыңыз." in texts[0] and "Use the median" not in texts[0]
    assert "Медиананы" not in texts[1]  # a passed check says so, without the hint
    with app.test_request_context(), force_locale("ru"):
        texts = [o["text"] for o in shown_outputs(stored)["c1"]["outputs"]]
    assert "Возьмите медиану." in texts[2] and texts[2] != texts[0]
