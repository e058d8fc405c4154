"""Course files (lesson images): only images; a draft's only to those who may preview it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from lms.courses.models import Course, Item, ItemKind
from tests.courses.conftest import edit


def test_lesson_image_is_served(cli, client, example: Path) -> None:
    edit(example / "course.toml", "published = false", "published = true")
    assert cli("import", example).exit_code == 0
    response = client.get("/courses/example-package/files/lessons/img/pipeline.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data == (example / "lessons/img/pipeline.png").read_bytes()
    assert client.get("/courses/example-package/files/lessons/img/none.png").status_code == 404


def test_draft_course_files_and_non_images_are_not_served(
    cli, client, session, example: Path
) -> None:
    (example / "lessons/notes.txt").write_text("instructor notes\n", encoding="utf-8")
    assert cli("import", example).exit_code == 0
    assert client.get("/courses/example-package/files/lessons/img/pipeline.png").status_code == 404
    course = session.scalar(select(Course).where(Course.slug == "example-package"))
    course.published = True
    session.flush()
    assert client.get("/courses/example-package/files/lessons/notes.txt").status_code == 404
    assert client.get("/courses/example-package/files/lessons/img/pipeline.png").status_code == 200


def test_a_drafts_images_are_shown_to_its_authors_only(
    cli, client, session, login, make_user, example: Path
) -> None:
    assert cli("import", example).exit_code == 0  # the example is a draft
    course = session.scalar(select(Course).where(Course.slug == "example-package"))
    url = "/courses/example-package/files/lessons/img/pipeline.png"
    login(make_user(roles=["instructor"]))  # an instructor, but not of this course
    assert client.get(url).status_code == 404
    owner = make_user(roles=["instructor"])
    course.owner_id = owner.id
    session.flush()
    login(owner)
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == (example / "lessons/img/pipeline.png").read_bytes()
    assert "no-store" in response.headers["Cache-Control"]
    login(make_user(roles=["admin"]))
    assert client.get(url).status_code == 200


def test_changing_an_items_kind_keeps_the_item(cli, session, example: Path) -> None:
    assert cli("import", example).exit_code == 0
    before = session.scalar(select(Item).where(Item.key == "basics-quiz"))
    item_id = before.id
    # The quiz becomes a lesson under the same id.
    edit(
        example / "course.toml",
        'id = "basics-quiz"\nkind = "quiz"',
        'id = "basics-quiz"\nkind = "lesson"',
    )
    (example / "quizzes/basics-quiz.toml").unlink()
    (example / "lessons/basics-quiz.kk.md").write_text("# Қайталау\n", encoding="utf-8")
    result = cli("import", example)
    assert result.exit_code == 0, result.stderr
    session.expire_all()
    item = session.get(Item, item_id)
    assert item.kind == ItemKind.LESSON
    assert item.quiz is None and item.lesson.body == {"kk": "# Қайталау\n"}
