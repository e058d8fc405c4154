"""Outline editing: modules and items move, ids never change, removed items stay inactive."""

from __future__ import annotations

import io

from sqlalchemy import select

from lms.courses.models import Item, Module
from lms.learning import services as learning
from lms.studio import services
from tests.studio.conftest import good_notebook


def keys(session, course):
    session.expire_all()
    modules = session.scalars(
        select(Module).where(Module.course_id == course.id).order_by(Module.position)
    ).all()
    return [(m.key, [i.key for i in sorted(m.items, key=lambda i: i.position)]) for m in modules]


def test_add_modules_and_items_then_reorder(client, session, login, instructor, make_studio_course):
    course = make_studio_course(instructor)
    login(instructor)
    base = f"/studio/courses/{course.slug}"
    assert (
        client.post(f"{base}/modules", data={"key": "practice", "title_en": "Practice"}).status_code
        == 303
    )
    practice = session.scalar(
        select(Module).where(Module.key == "practice", Module.course_id == course.id)
    )
    first = course.modules[0]
    for key, kind, module in [("quiz-1", "quiz", first.id), ("nb-1", "assignment", practice.id)]:
        response = client.post(
            f"{base}/items",
            data={
                "key": key,
                "kind": kind,
                "module": module,
                "title_en": key.upper(),
                "required": "y",
            },
        )
        assert response.status_code == 303
    assert keys(session, course) == [("module-1", ["intro", "quiz-1"]), ("practice", ["nb-1"])]
    ids = {i.key: i.id for i in session.scalars(select(Item).where(Item.course_id == course.id))}
    client.post(f"{base}/items/quiz-1/move", data={"direction": "up"})
    assert keys(session, course)[0] == ("module-1", ["quiz-1", "intro"])
    # Down past the module's end: into the next module, first.
    client.post(f"{base}/items/intro/move", data={"direction": "down"})
    assert keys(session, course) == [("module-1", ["quiz-1"]), ("practice", ["intro", "nb-1"])]
    client.post(f"{base}/items/nb-1/module", data={"module": first.id})
    assert keys(session, course) == [("module-1", ["quiz-1", "nb-1"]), ("practice", ["intro"])]
    client.post(f"{base}/modules/{practice.id}/move", data={"direction": "up"})
    assert keys(session, course) == [("practice", ["intro"]), ("module-1", ["quiz-1", "nb-1"])]
    positions = [
        i.key
        for i in session.scalars(
            select(Item).where(Item.course_id == course.id).order_by(Item.position)
        )
    ]
    assert positions == ["intro", "quiz-1", "nb-1"]
    # Every item kept the row (and so the learners' records) it started with.
    assert {
        i.key: i.id for i in session.scalars(select(Item).where(Item.course_id == course.id))
    } == ids
    page = client.get(base).get_data(as_text=True)
    assert page.index("intro") < page.index("quiz-1") < page.index("nb-1")


def test_item_settings_change_title_not_id(client, session, login, instructor, make_studio_course):
    course = make_studio_course(instructor)
    login(instructor)
    url = f"/studio/courses/{course.slug}/items/intro/settings"
    assert client.post(url, data={"title_en": "", "key": "other"}).status_code == 400
    assert client.post(url, data={"title_en": "Welcome", "key": "other"}).status_code == 303
    item = session.scalar(select(Item).where(Item.course_id == course.id))
    session.refresh(item)
    assert (item.key, item.title, item.required) == ("intro", {"en": "Welcome"}, False)


def test_item_and_module_errors(client, login, instructor, make_studio_course):
    course = make_studio_course(instructor)
    login(instructor)
    base = f"/studio/courses/{course.slug}"
    module = course.modules[0].id
    taken = client.post(
        f"{base}/items",
        data={"key": "intro", "kind": "lesson", "module": module, "title_en": "Again"},
    )
    assert taken.status_code == 400
    assert "Another item of this course already uses this id." in taken.get_data(as_text=True)
    bad = client.post(
        f"{base}/items", data={"key": "Not OK", "kind": "lesson", "module": module, "title_en": "x"}
    )
    assert "Use small Latin letters" in bad.get_data(as_text=True)
    untitled = client.post(
        f"{base}/items", data={"key": "fine", "kind": "lesson", "module": module}
    )
    assert "Required in the course" in untitled.get_data(as_text=True)
    dup = client.post(f"{base}/modules", data={"key": "module-1", "title_en": "x"})
    assert "Another module of this course already uses this id." in dup.get_data(as_text=True)


def test_removing_an_item_deactivates_it(client, session, login, instructor, make_studio_course):
    course = make_studio_course(instructor)
    login(instructor)
    base = f"/studio/courses/{course.slug}"
    assert client.post(f"{base}/items/intro/remove").status_code == 303
    item = session.scalar(select(Item).where(Item.course_id == course.id, Item.key == "intro"))
    session.refresh(item)
    assert item.active is False
    assert "Hidden from learners" in client.get(base).get_data(as_text=True)
    assert client.post(f"{base}/items/intro/restore").status_code == 303
    session.refresh(item)
    assert item.active is True


def test_a_new_item_goes_to_the_last_module_unless_another_is_picked(
    client, session, login, instructor, make_studio_course
):
    course = make_studio_course(instructor)
    login(instructor)
    base = f"/studio/courses/{course.slug}"
    client.post(f"{base}/modules", data={"key": "practice", "title_en": "Practice"})
    practice = session.scalar(
        select(Module).where(Module.key == "practice", Module.course_id == course.id)
    )
    page = client.get(base).get_data(as_text=True)
    menu = page[page.index('<select id="module"') :]
    menu = menu[: menu.index("</select>")]
    assert f'<option selected value="{practice.id}">' in menu
    assert f'<option selected value="{course.modules[0].id}">' not in menu


def test_an_item_added_to_a_published_course_stays_hidden_until_it_is_ready(
    client, session, login, instructor, make_user, make_studio_course
):
    course = make_studio_course(instructor)
    services.set_published(session, course=course, published=True)
    learner = make_user()
    enrollment = learning.enrol(session, user=learner, course=course, language="en")
    login(instructor)
    base = f"/studio/courses/{course.slug}"
    new = {"new-lesson": "lesson", "new-quiz": "quiz", "new-nb": "assignment"}
    for key, kind in new.items():
        added = client.post(
            f"{base}/items",
            follow_redirects=True,
            data={
                "key": key,
                "kind": kind,
                "module": course.modules[0].id,
                "title_en": f"Fresh {kind}",
                "required": "y",
            },
        )
        assert "hidden from learners as the course is published" in added.get_data(as_text=True)
        refused = client.post(f"{base}/items/{key}/restore", follow_redirects=True)
        assert "stays hidden from learners until" in refused.get_data(as_text=True)
    outline = client.get(base).get_data(as_text=True)
    assert outline.count("Hidden from learners") == 3
    assert f'href="{base}/quizzes/new-quiz"' in outline, "a hidden item can still be edited"

    def learner_view() -> tuple[list[str], list[int]]:
        """The new items the learner's course page lists, and what opening each one gives."""
        client.post("/logout")
        login(learner)
        page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
        listed = [kind for kind in new.values() if f"Fresh {kind}" in page]
        opened = [client.get(f"/courses/{course.slug}/items/{key}").status_code for key in new]
        client.post("/logout")
        login(instructor)
        return listed, opened

    assert learner_view() == ([], [404, 404, 404])
    session.expire_all()
    assert learning.course_progress(session, enrollment=enrollment).required_total == 1

    client.post(f"{base}/lessons/new-lesson", data={"body_en": "# New", "action": "save"})
    client.post(
        f"{base}/quizzes/new-quiz/questions/new",
        data={"kind": "numeric", "points": "1", "prompt_en": "Two and two?", "value": "4"},
    )
    client.post(
        f"{base}/assignments/new-nb/notebook",
        content_type="multipart/form-data",
        data={"notebook": (io.BytesIO(good_notebook()), "nb.ipynb")},
    )
    for key in new:
        shown = client.post(f"{base}/items/{key}/restore", follow_redirects=True)
        assert "The item is back in the course." in shown.get_data(as_text=True)
    listed, opened = learner_view()
    assert listed == ["lesson", "quiz", "assignment"] and 404 not in opened
    session.expire_all()
    assert learning.course_progress(session, enrollment=enrollment).required_total == 4
