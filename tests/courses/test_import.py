"""Importing packages: what lands in the database, and what re-importing keeps."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select, text

from lms.courses.models import (
    Assignment,
    Course,
    CourseFile,
    Item,
    ItemKind,
    Module,
    Question,
    Quiz,
)
from lms.learning.models import Enrollment, ItemProgress
from lms.stats.models import Completion
from tests.courses.conftest import edit


def _course(session, slug: str = "example-package") -> Course:
    course = session.scalar(select(Course).where(Course.slug == slug))
    assert course is not None
    return course


def test_example_package_imports_every_part(cli, session, example: Path) -> None:
    result = cli("import", example)
    assert result.exit_code == 0, result.output + result.stderr
    assert "example-package: imported (2 modules, 4 items)" in result.stdout
    assert result.stderr == ""

    course = _course(session)
    # The authors' example is never shown to learners, yet imports and exports like any.
    assert course.published is False and course.tier == "public"
    assert course.languages == ["kk", "ru", "en"]
    assert course.title["kk"].startswith("Үлгі пакет")
    assert course.owner_id is None  # no --owner: the course belongs to admins
    assert [m.key for m in course.modules] == ["basics", "practice"]
    items = {i.key: i for i in course.items}
    assert [i.key for i in course.items] == [
        "what-is-ai",
        "basics-quiz",
        "data-and-models",
        "first-notebook",
    ]
    assert items["data-and-models"].required is False
    assert items["what-is-ai"].lesson.body["ru"].startswith("# Что такое")

    quiz = items["basics-quiz"].quiz
    assert quiz.pass_mark == Decimal("0.7") and quiz.max_attempts == 3
    kinds = {q.key: q for q in quiz.questions}
    assert [q.kind for q in quiz.questions] == [
        "single",
        "multiple",
        "numeric",
        "text",
        "ordering",
        "matching",
    ]
    assert (quiz.retry_hours, quiz.reveal, quiz.exercise) == (
        12,
        "after-pass-or-last-attempt",
        False,
    )
    assert kinds["q-learns-from"].answer == {"keys": ["examples"]}
    assert kinds["q-learns-from"].options[0]["key"] == "examples"
    assert kinds["q-true-about-ai"].answer == {"keys": ["patterns", "mistakes"]}
    assert kinds["q-true-about-ai"].points == 2
    assert kinds["q-mean"].answer == {"value": 7.5, "tolerance": 0.05}
    assert kinds["q-ml-name"].answer["accepted"]["kk"] == ["машиналық оқыту"]
    assert kinds["q-learns-from"].explanation["en"].startswith("The system")
    assert kinds["q-ml-name"].answer["kazakh_plain"] is True
    steps = kinds["q-project-steps"]
    assert steps.scenario is True and steps.points == 2
    assert steps.answer == {"order": ["collect", "split", "train", "evaluate"]}
    assert steps.options[0]["text"]["en"] == "Collect data on past appointments"
    pairs = kinds["q-term-pairs"]
    assert pairs.answer == {"pairs": ["label", "feature", "model"]}
    assert pairs.options[0]["left"]["kk"] == "Белгі"

    assignment = items["first-notebook"].assignment
    assert assignment.notebook_name == "first-notebook"
    assert assignment.pass_score == Decimal("0.6") and assignment.max_attempts == 5
    assert assignment.auto_points == 1
    assert json.loads(assignment.source)["nbformat"] == 4
    assert "### BEGIN SOLUTION" not in assignment.student
    assert [f.name for f in assignment.files] == ["scores.csv"]
    assert assignment.files[0].content.startswith(b"name,score\n")
    assert [f.path for f in course.files] == ["lessons/img/pipeline.png"]


def test_owner_option_names_the_instructor(cli, session, make_user, example: Path) -> None:
    teacher = make_user(roles=["instructor"])
    result = cli("import", example, "--owner", teacher.email)
    assert result.exit_code == 0, result.stderr
    assert _course(session).owner_id == teacher.id

    unknown = cli("import", example, "--owner", "nobody@example.kz")
    assert unknown.exit_code != 0
    assert "no account with e-mail nobody@example.kz" in unknown.stderr


def test_reimport_updates_in_place_and_keeps_learners_records(
    cli, session, make_user, example: Path
) -> None:
    assert cli("import", example).exit_code == 0
    course = _course(session)
    ids = {i.key: i.id for i in course.items}
    module_ids = {m.key: m.id for m in course.modules}
    question_ids = {q.key: q.id for q in session.scalars(select(Question))}

    learner = make_user()
    enrollment = Enrollment(user_id=learner.id, course_id=course.id, language="ru")
    session.add(enrollment)
    session.flush()
    passed_at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    for key in ids:
        session.add(
            ItemProgress(
                enrollment_id=enrollment.id,
                item_id=ids[key],
                passed=True,
                attempts=1,
                passed_at=passed_at,
            )
        )
    completion = Completion(
        user_id=learner.id,
        person_key=learner.person_key,
        course_id=course.id,
        tier="public",
        region="KZ-75",
        sector="J",
        sex="female",
        age_band="35-44",
        language="ru",
        completed_at=passed_at,
        day=date(2026, 3, 1),
    )
    session.add(completion)
    session.flush()

    # The author drops the optional lesson, renames a title and adds a new required lesson.
    edit(
        example / "course.toml",
        """[[modules.items]]
id = "data-and-models"
kind = "lesson"
required = false

[modules.items.title]
kk = "Деректер және модельдер"
ru = "Данные и модели"
en = "Data and models"
""",
        """[[modules.items]]
id = "new-lesson"
kind = "lesson"
required = true

[modules.items.title]
kk = "Жаңа сабақ"
""",
    )
    edit(example / "course.toml", 'en = "Quiz: basics"', 'en = "Quiz: the basics"')
    for lang in ("kk", "ru", "en"):
        (example / f"lessons/data-and-models.{lang}.md").unlink()
    (example / "lessons/new-lesson.kk.md").write_text("# Жаңа сабақ\n", encoding="utf-8")

    second = cli("import", example)
    assert second.exit_code == 0, second.stderr
    session.expire_all()
    course = _course(session)
    items = {i.key: i for i in session.scalars(select(Item).where(Item.course_id == course.id))}
    for key, item_id in ids.items():
        assert items[key].id == item_id  # the same rows, never duplicates
    assert items["data-and-models"].active is False
    assert items["new-lesson"].active is True and items["new-lesson"].required is True
    assert items["basics-quiz"].title["en"] == "Quiz: the basics"
    assert {m.key: m.id for m in course.modules} == module_ids
    assert {q.key: q.id for q in session.scalars(select(Question))} == question_ids
    assert session.scalar(select(func.count()).select_from(Course)) == 1
    assert session.scalar(select(func.count()).select_from(Quiz)) == 1
    assert session.scalar(select(func.count()).select_from(Assignment)) == 1
    assert session.scalar(select(func.count()).select_from(CourseFile)) == 1
    # The learner's passes and the completion fact are untouched.
    progress = list(
        session.scalars(select(ItemProgress).where(ItemProgress.enrollment_id == enrollment.id))
    )
    assert len(progress) == 4 and all(p.passed for p in progress)
    assert session.get(Completion, completion.id).completed_at == passed_at
    assert session.get(Enrollment, enrollment.id).completed_at is None
    # The outline learners see leaves the removed lesson out.
    from lms.courses.services import course_outline

    outline = course_outline(course)
    assert [i.key for block in outline for i in block.items] == [
        "what-is-ai",
        "basics-quiz",
        "new-lesson",
        "first-notebook",
    ]


def test_a_removed_module_leaves_the_outline(cli, session, example: Path) -> None:
    assert cli("import", example).exit_code == 0
    text = (example / "course.toml").read_text(encoding="utf-8")
    (example / "course.toml").write_text(
        text.split('[[modules]]\nid = "practice"')[0].rstrip() + "\n", encoding="utf-8"
    )
    shutil.rmtree(example / "notebooks")
    for lang in ("kk", "ru", "en"):
        (example / f"lessons/data-and-models.{lang}.md").unlink()
    result = cli("import", example)
    assert result.exit_code == 0, result.stderr
    session.expire_all()
    from lms.courses.services import course_outline

    course = _course(session)
    assert [block.module.key for block in course_outline(course)] == ["basics"]
    assert session.scalar(select(func.count()).select_from(Module)) == 2  # kept for records
    notebook = session.scalar(select(Item).where(Item.key == "first-notebook"))
    assert notebook.active is False and notebook.kind == ItemKind.ASSIGNMENT


def test_folder_of_packages_imports_in_prerequisite_order(cli, session, example: Path) -> None:
    folder = example.parent
    (folder / "README.md").write_text("# Our courses\n", encoding="utf-8")
    # "a-advanced" sorts first but needs the example package first.
    advanced = folder / "a-advanced"
    shutil.copytree(example, advanced)
    edit(advanced / "course.toml", 'slug = "example-package"', 'slug = "a-advanced"')
    edit(advanced / "course.toml", "prerequisites = []", 'prerequisites = ["example-package"]')
    result = cli("import", folder)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines.index("example-package: imported (2 modules, 4 items)") < lines.index(
        "a-advanced: imported (2 modules, 4 items)"
    )
    assert [p.slug for p in _course(session, "a-advanced").prerequisites] == ["example-package"]


def test_each_package_is_all_or_nothing(cli, session, example: Path) -> None:
    folder = example.parent
    broken = folder / "broken-course"
    shutil.copytree(example, broken)
    edit(broken / "course.toml", 'slug = "example-package"', 'slug = "broken-course"')
    # A second quiz whose file is broken: nothing of this package may be stored.
    edit(
        broken / "course.toml",
        '''[[modules]]
id = "practice"''',
        '''[[modules.items]]
id = "second-quiz"
kind = "quiz"

[modules.items.title]
kk = "Екінші тест"

[[modules]]
id = "practice"''',
    )
    (broken / "quizzes/second-quiz.toml").write_text(
        'pass_mark = 0.5\n[[questions]]\nid = "q1"\nkind = "single"\n', encoding="utf-8"
    )
    result = cli("import", folder)
    assert result.exit_code != 0
    assert "broken-course/quizzes/second-quiz.toml:2: missing key 'options'" in result.stderr
    assert "example-package: imported" in result.stdout
    assert "broken-course: not imported" in result.stdout
    assert session.scalar(select(Course).where(Course.slug == "broken-course")) is None
    assert session.scalar(select(func.count()).select_from(Course)) == 1


def test_database_failure_rolls_back_the_whole_package(cli, session, example: Path) -> None:
    # The database itself refuses the last rows written (a data file of the assignment).
    # The trigger is created inside the test's transaction, so the rollback removes it.
    if session.bind.dialect.name == "sqlite":
        session.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON assignment_file "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        )
    else:
        session.execute(
            text(
                "CREATE FUNCTION oqu_refuse() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql"
            )
        )
        session.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON assignment_file "
                "FOR EACH ROW EXECUTE FUNCTION oqu_refuse()"
            )
        )
    session.commit()
    try:
        result = cli("import", example)
        assert result.exit_code != 0
        assert "course.toml: import failed, nothing of it stored" in result.stderr
        assert "disk full" in result.stderr
        assert session.scalar(select(func.count()).select_from(Course)) == 0
        assert session.scalar(select(func.count()).select_from(Item)) == 0
        assert session.scalar(select(func.count()).select_from(Question)) == 0
    finally:
        if session.bind.dialect.name == "sqlite":
            session.execute(text("DROP TRIGGER IF EXISTS refuse"))
        else:
            session.execute(text("DROP TRIGGER IF EXISTS refuse ON assignment_file"))
            session.execute(text("DROP FUNCTION IF EXISTS oqu_refuse()"))
