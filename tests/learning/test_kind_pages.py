"""The learner's page for each kind: what it sends is what the server reads, a number to
retype comes back with every answer as typed, and the result page describes each kind."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from lms.learning import services
from lms.learning.models import QuizAttempt

STEPS = [
    {"key": k, "text": {"en": t, "kk": t}}
    for k, t in [("collect", "Collect data"), ("split", "Split it"), ("train", "Train")]
]
PAIRS = [
    {"key": k, "left": {"en": left}, "right": {"en": right}}
    for k, left, right in [
        ("label", "Label", "The right answer of an example"),
        ("feature", "Feature", "A value the model is given"),
    ]
]
QUESTIONS = [
    {
        "key": "order",
        "kind": "ordering",
        "prompt": {"en": "Put the steps in order."},
        "options": STEPS,
        "answer": {"order": ["collect", "split", "train"]},
        "points": 2,
    },
    {
        "key": "pairs",
        "kind": "matching",
        "prompt": {"en": "Match the terms."},
        "options": PAIRS,
        "answer": {"pairs": ["label", "feature"]},
        "points": 2,
    },
    {
        "key": "people",
        "kind": "numeric",
        "prompt": {"en": "How many people, in thousands?"},
        "answer": {"value": 5000, "tolerance": 0},
    },
]


def options_of(html: str, label_text: str) -> dict[str, str]:
    """The <option> values of the select labelled ``label_text``, by their text."""
    select_id = re.search(rf'<label for="([^"]+)">(?:<span[^>]*>)?{re.escape(label_text)}', html)
    assert select_id, label_text
    block = re.search(rf'<select id="{select_id.group(1)}"[^>]*>(.*?)</select>', html, re.S)
    assert block
    return {
        text.strip(): value
        for value, text in re.findall(
            r'<option value="([^"]*)"[^>]*>([^<]*)</option>', block.group(1)
        )
        if value
    }


def test_the_page_sends_what_the_server_reads(client, login, session, make_course, learner) -> None:
    course = make_course(items=[{"key": "check", "kind": "quiz", "questions": QUESTIONS}])
    enrollment = services.enrol(session, user=learner, course=course, language="en")
    login(learner)
    html = client.get(f"/courses/{course.slug}/items/check").get_data(as_text=True)
    for key in ("collect", "split", "train", "label", "feature"):
        assert f'value="{key}' not in html and f":{key}" not in html, "ids give the answer away"
    order = [options_of(html, s["text"]["en"])[str(n)] for n, s in enumerate(STEPS, start=1)]
    pairs = [options_of(html, p["left"]["en"])[p["right"]["en"]] for p in PAIRS]
    answers = {"q-order": order, "q-pairs": pairs, "q-people": "5,000", "attempt": "1"}
    retype = client.post(f"/courses/{course.slug}/items/check/attempts", data=answers)
    assert retype.status_code == 400
    page = retype.get_data(as_text=True)
    assert "could be five thousand or five" in page
    assert 'value="5,000"' in page, "the number comes back as typed"
    assert page.count(" selected>") == len(order) + len(pairs), "so do the other answers"
    assert session.scalar(select(func.count(QuizAttempt.id))) == 0, "nothing was saved"
    answers["q-people"] = "5 000"
    done = client.post(f"/courses/{course.slug}/items/check/attempts", data=answers)
    assert done.status_code == 303
    attempt = session.scalar(select(QuizAttempt).where(QuizAttempt.enrollment_id == enrollment.id))
    assert attempt.score == 5 and attempt.passed
    result = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Collect data → Split it → Train" in result
    assert "Label — The right answer of an example" in result


def test_a_partly_right_matching_is_shown_as_such(
    client, login, session, make_course, learner
) -> None:
    course = make_course(items=[{"key": "check", "kind": "quiz", "questions": QUESTIONS[1:2]}])
    services.enrol(session, user=learner, course=course, language="en")
    login(learner)
    html = client.get(f"/courses/{course.slug}/items/check").get_data(as_text=True)
    wrong = options_of(html, "Feature")["The right answer of an example"]
    right = options_of(html, "Label")["The right answer of an example"]
    done = client.post(
        f"/courses/{course.slug}/items/check/attempts",
        data={"q-pairs": [right, wrong], "attempt": "1"},
    )
    result = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "1 of 2 points." in result and "Partly correct" in result
