"""The quiz editor: settings, every kind of question and their rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from lms.courses.models import Item, Quiz
from lms.studio import services


@pytest.fixture
def quiz_url(session, instructor, make_studio_course, login):
    course = make_studio_course(instructor)
    services.add_item(
        session,
        module=course.modules[0],
        key="check",
        kind="quiz",
        title={"en": "Check"},
        required=True,
    )
    login(instructor)
    return f"/studio/courses/{course.slug}/quizzes/check"


def the_quiz(session) -> Quiz:
    session.expire_all()
    return session.scalar(select(Item).where(Item.key == "check")).quiz


def options(*rows):
    data = {}
    for n, (text, correct) in enumerate(rows):
        data[f"options-{n}-text_en"] = text
        if correct:
            data[f"options-{n}-correct"] = "y"
    return data


def test_settings(client, session, quiz_url):
    assert client.post(quiz_url, data={"pass_mark": "0.75", "max_attempts": "3"}).status_code == 303
    quiz = the_quiz(session)
    assert (quiz.pass_mark, quiz.max_attempts) == (Decimal("0.75"), 3)
    assert (quiz.retry_hours, quiz.reveal, quiz.exercise) == (24, "always", False)
    # One number rule in the studio as on the learner's page: a decimal comma is a comma.
    settings = {
        "pass_mark": "0,6",
        "max_attempts": "3",
        "retry_hours": "12",
        "reveal": "after-pass-or-last-attempt",
        "exercise": "y",
    }
    assert client.post(quiz_url, data=settings).status_code == 303
    session.refresh(quiz)
    assert (quiz.pass_mark, quiz.retry_hours, quiz.reveal, quiz.exercise) == (
        Decimal("0.6"),
        12,
        "after-pass-or-last-attempt",
        True,
    )
    for bad, message in [
        ({"pass_mark": "0"}, "above 0 and at most 1"),
        ({"pass_mark": "1.5"}, "above 0 and at most 1"),
        ({"pass_mark": "abc"}, "Enter a number between 0 and 1"),
        ({"pass_mark": "0,5555"}, "at most 3 decimal places"),
        ({"pass_mark": "1,000"}, "could be five thousand or five"),
        ({"pass_mark": "0.5", "retry_hours": "0"}, "whole number of hours from 1"),
        ({"pass_mark": "0.5555"}, "at most 3 decimal places"),
        ({"pass_mark": "0.5", "max_attempts": "0"}, "whole number from 1"),
    ]:
        response = client.post(quiz_url, data=bad)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True), bad


def test_all_four_kinds(client, session, quiz_url):
    new = f"{quiz_url}/questions/new"
    assert (
        client.post(
            new,
            data={
                "kind": "single",
                "points": "2",
                "prompt_en": "Capital?",
                "explanation_en": "Since 1997.",
                **options(("Astana", True), ("Almaty", False)),
            },
        ).status_code
        == 303
    )
    assert (
        client.post(
            new,
            data={
                "kind": "multiple",
                "points": "1",
                "prompt_en": "Methods?",
                **options(("Supervised", True), ("Unsupervised", True), ("Teleport", False)),
            },
        ).status_code
        == 303
    )
    assert (
        client.post(
            new,
            data={
                "kind": "numeric",
                "points": "1",
                "prompt_en": "Half of 7?",
                "value": "3,5",
                "tolerance": "0.01",
            },
        ).status_code
        == 303
    )
    assert (
        client.post(
            new,
            data={
                "kind": "text",
                "points": "1",
                "prompt_en": "City?",
                "accepted_en": "Almaty\n  Алматы \n\n",
            },
        ).status_code
        == 303
    )
    questions = the_quiz(session).questions
    assert [q.kind for q in questions] == ["single", "multiple", "numeric", "text"]
    single, multiple, numeric, text = questions
    assert single.points == Decimal(2)
    assert [o["text"]["en"] for o in single.options] == ["Astana", "Almaty"]
    assert single.answer == {"keys": ["o1"]}
    assert single.explanation == {"en": "Since 1997."}
    assert multiple.answer == {"keys": ["o1", "o2"]}
    assert numeric.answer == {"value": 3.5, "tolerance": 0.01}
    assert text.answer == {"accepted": {"en": ["Almaty", "Алматы"]}}
    page = client.get(quiz_url).get_data(as_text=True)
    assert page.index("Capital?") < page.index("Methods?") < page.index("City?")
    # Edit keeps the id; reorder; delete.
    edit = client.get(f"{quiz_url}/questions/{single.key}").get_data(as_text=True)
    assert 'value="Astana"' in edit
    assert 'name="options-0-key" type="hidden" value="o1"' in edit
    assert (
        client.post(
            f"{quiz_url}/questions/{single.key}",
            data={
                "kind": "single",
                "points": "1",
                "prompt_en": "Capital now?",
                "options-0-key": "o1",
                "options-1-key": "o2",
                **options(("Almaty", False), ("Astana", True)),
            },
        ).status_code
        == 303
    )
    client.post(f"{quiz_url}/questions/{text.key}/move", data={"direction": "up"})
    client.post(f"{quiz_url}/questions/{multiple.key}/delete")
    questions = the_quiz(session).questions
    assert [(q.key, q.kind) for q in questions] == [
        (single.key, "single"),
        (text.key, "text"),
        (numeric.key, "numeric"),
    ]
    assert questions[0].prompt == {"en": "Capital now?"}
    assert questions[0].answer == {"keys": ["o2"]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "single", **options(("A", True), ("B", True))}, "exactly one correct option"),
        ({"kind": "single", **options(("A", False), ("B", False))}, "exactly one correct option"),
        (
            {"kind": "multiple", **options(("A", False), ("B", False))},
            "at least one correct option",
        ),
        ({"kind": "single", **options(("A", True))}, "at least two options"),
        ({"kind": "numeric", "value": "three"}, "Enter a number"),
        ({"kind": "numeric", "value": "3", "tolerance": "-1"}, "0 or more"),
        ({"kind": "text", "accepted_en": "  \n"}, "at least one accepted answer"),
        ({"kind": "text", "accepted_en": "x", "prompt_en": ""}, "Required in the course"),
        ({"kind": "text", "accepted_en": "x", "points": "0"}, "from 0.01 to 9999"),
    ],
)
def test_question_rules(client, session, quiz_url, data, message):
    response = client.post(
        f"{quiz_url}/questions/new", data={"points": "1", "prompt_en": "Q?", **data}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert the_quiz(session).questions == []


def test_the_last_question_of_a_live_quiz_cannot_be_deleted(client, session, quiz_url):
    new = f"{quiz_url}/questions/new"
    for prompt in ("One?", "Two?"):
        assert (
            client.post(
                new, data={"kind": "numeric", "points": "1", "prompt_en": prompt, "value": "1"}
            ).status_code
            == 303
        )
    slug = quiz_url.split("/")[3]
    assert client.post(f"/studio/courses/{slug}/publish").status_code == 303
    first, last = (q.key for q in the_quiz(session).questions)
    assert client.post(f"{quiz_url}/questions/{first}/delete").status_code == 303
    refused = client.post(f"{quiz_url}/questions/{last}/delete", follow_redirects=True)
    assert "its last question cannot be deleted" in refused.get_data(as_text=True)
    assert [q.key for q in the_quiz(session).questions] == [last]
    # Once the quiz is hidden from learners, it may be emptied.
    assert client.post(f"/studio/courses/{slug}/items/check/remove").status_code == 303
    assert client.post(f"{quiz_url}/questions/{last}/delete").status_code == 303
    assert the_quiz(session).questions == []


def test_removing_an_option_leaves_learners_answers_as_they_were(
    client, session, quiz_url, login, instructor, make_user
):
    from lms.learning import services as learning

    assert (
        client.post(
            f"{quiz_url}/questions/new",
            data={
                "kind": "single",
                "points": "1",
                "prompt_en": "Pick B",
                **options(("A", False), ("B", True), ("C", False)),
            },
        ).status_code
        == 303
    )
    slug = quiz_url.split("/")[3]
    assert client.post(f"/studio/courses/{slug}/publish").status_code == 303
    question = the_quiz(session).questions[0]
    keys = {o["text"]["en"]: o["key"] for o in question.options}
    learner = make_user()
    learning.enrol(session, user=learner, course=question.quiz.item.course, language="en")
    client.post("/logout")
    login(learner)
    attempt = client.post(
        f"/courses/{slug}/items/check/attempts",
        data={"attempt": "1", f"q-{question.key}": keys["B"]},
    )
    attempt_url = attempt.headers["Location"]
    assert "<span>B</span>" in client.get(attempt_url).get_data(as_text=True)
    client.post("/logout")
    login(instructor)
    # The browser sends each option's id back; A is gone and D is new.
    assert (
        client.post(
            f"{quiz_url}/questions/{question.key}",
            data={
                "kind": "single",
                "points": "1",
                "prompt_en": "Pick B",
                "options-0-key": keys["B"],
                "options-1-key": keys["C"],
                **options(("B", True), ("C", False), ("D", False)),
            },
        ).status_code
        == 303
    )
    client.post("/logout")
    login(learner)
    page = client.get(attempt_url).get_data(as_text=True)
    assert "<span>B</span>" in page and "<span>C</span>" not in page
    edited = {o["text"]["en"]: o["key"] for o in the_quiz(session).questions[0].options}
    assert (edited["B"], edited["C"]) == (keys["B"], keys["C"])
    assert edited["D"] not in keys.values(), "a removed option's id is never given again"


def test_a_question_added_after_answers_never_takes_a_deleted_questions_id(
    client, session, quiz_url, login, instructor, make_user
):
    from lms.learning import services as learning

    for prompt in ("First", "Second"):
        assert (
            client.post(
                f"{quiz_url}/questions/new",
                data={
                    "kind": "single",
                    "points": "1",
                    "prompt_en": prompt,
                    **options(("A", True), ("B", False)),
                },
            ).status_code
            == 303
        )
    slug = quiz_url.split("/")[3]
    assert client.post(f"/studio/courses/{slug}/publish").status_code == 303
    first, second = the_quiz(session).questions
    assert (first.key, second.key) == ("q1", "q2")
    learner = make_user()
    learning.enrol(session, user=learner, course=first.quiz.item.course, language="en")
    client.post("/logout")
    login(learner)
    answers = {f"q-{q.key}": q.options[1]["key"] for q in (first, second)}
    attempt_url = client.post(
        f"/courses/{slug}/items/check/attempts", data={"attempt": "1", **answers}
    ).headers["Location"]
    client.post("/logout")
    login(instructor)
    assert client.post(f"{quiz_url}/questions/q2/delete").status_code == 303
    assert (
        client.post(
            f"{quiz_url}/questions/new",
            data={
                "kind": "single",
                "points": "1",
                "prompt_en": "Brand new",
                **options(("Yes", True), ("No", False)),
            },
        ).status_code
        == 303
    )
    session.expire_all()
    keys = [q.key for q in the_quiz(session).questions]
    assert keys[0] == "q1" and keys[1] not in ("q1", "q2")
    client.post("/logout")
    login(learner)
    # The learner's old answer to the deleted question is not shown against the new one.
    page = client.get(attempt_url).get_data(as_text=True)
    block = page[page.index("Brand new") :].split("</li>", 1)[0]
    assert "no answer" in block and "<span>No</span>" not in block


def rows(prefix: str, *texts: tuple[str, ...], fields: tuple[str, ...] = ("text",)) -> dict:
    data = {}
    for n, values in enumerate(texts):
        for name, value in zip(fields, values, strict=True):
            data[f"{prefix}-{n}-{name}_en"] = value
    return data


def test_ordering_and_matching_in_the_editor_and_back_from_a_package(
    client, session, quiz_url, instructor
) -> None:
    from tests.studio.test_packages import download, make_zip, upload

    new = f"{quiz_url}/questions/new"
    editor = client.get(f"{new}?kind=ordering").get_data(as_text=True)
    assert "Steps, in the right order" in editor and "Put in order" in editor
    assert (
        client.post(
            new,
            data={
                "kind": "ordering",
                "points": "2",
                "scenario": "y",
                "prompt_en": "Order the steps.",
                **rows("steps", ("Collect",), ("Split",), ("Train",)),
            },
        ).status_code
        == 303
    )
    assert (
        client.post(
            new,
            data={
                "kind": "matching",
                "points": "1,5",
                "prompt_en": "Match.",
                **rows(
                    "pairs", ("Label", "Answer"), ("Feature", "Input"), fields=("left", "right")
                ),
            },
        ).status_code
        == 303
    )
    ordering, matching = the_quiz(session).questions
    assert ordering.answer == {"order": ["s1", "s2", "s3"]} and ordering.scenario
    assert [s["text"]["en"] for s in ordering.options] == ["Collect", "Split", "Train"]
    assert matching.points == Decimal("1.5") and matching.answer == {"pairs": ["p1", "p2"]}
    # One row is not a question; a pair needs both sides.
    for kind, data, message in [
        ("ordering", rows("steps", ("Only",)), "Give at least two steps."),
        (
            "matching",
            rows("pairs", ("A", "a"), ("B", ""), fields=("left", "right")),
            "Every pair needs both its texts",
        ),
    ]:
        response = client.post(new, data={"kind": kind, "points": "1", "prompt_en": "?", **data})
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    # Editing keeps the ids: a step renamed and moved keeps its own id.
    edit_page = client.get(f"{quiz_url}/questions/{ordering.key}").get_data(as_text=True)
    assert 'value="Collect"' in edit_page
    assert (
        client.post(
            f"{quiz_url}/questions/{ordering.key}",
            data={
                "kind": "ordering",
                "points": "2",
                "prompt_en": "Order the steps.",
                "scenario": "y",
                "steps-0-key": "s2",
                "steps-1-key": "s1",
                "steps-2-key": "s3",
                **rows("steps", ("Split the data",), ("Collect",), ("Train",)),
            },
        ).status_code
        == 303
    )
    assert the_quiz(session).questions[0].answer == {"order": ["s2", "s1", "s3"]}
    # Out to a package and back, byte for byte.
    slug = quiz_url.split("/")[3]
    files = download(client, slug)
    quiz_file = files[f"{slug}/quizzes/check.toml"].decode("utf-8")
    assert 'kind = "ordering"' in quiz_file and "[[questions.items]]" in quiz_file
    assert "[[questions.pairs]]" in quiz_file and "[questions.pairs.right]" in quiz_file
    assert "scenario = true" in quiz_file and "points = 1.5" in quiz_file
    client.post(f"{quiz_url}/questions/{matching.key}/delete")
    assert upload(client, make_zip(files)).status_code == 303
    assert download(client, slug) == files


def test_the_studio_reads_numbers_by_the_learners_rule(client, session, quiz_url) -> None:
    new = f"{quiz_url}/questions/new"
    base = {"kind": "numeric", "points": "1", "prompt_en": "How many?"}
    refused = client.post(new, data={**base, "value": "5,000"})
    assert refused.status_code == 400
    assert "could be five thousand or five" in refused.get_data(as_text=True)
    assert the_quiz(session).questions == []
    for typed, value in [("5 000", 5000.0), ("5,000,000", 5000000.0), ("0,75", 0.75)]:
        assert client.post(new, data={**base, "value": typed}).status_code == 303
        assert the_quiz(session).questions[-1].answer["value"] == value
