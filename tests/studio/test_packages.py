"""Package zips: download, upload (create or update), and every refused zip."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest
from sqlalchemy import func, select

from lms.courses.models import Course
from lms.courses.services import export_course


def download(client, slug) -> dict[str, bytes]:
    response = client.get(f"/studio/courses/{slug}/package.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def make_zip(files: dict[str, bytes], *, links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            mode = stat.S_IFLNK | 0o777 if name in links else stat.S_IFREG | 0o644
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


def upload(client, data: bytes):
    return client.post(
        "/studio/upload",
        data={"package": (io.BytesIO(data), "p.zip")},
        content_type="multipart/form-data",
    )


def test_round_trip(client, session, login, instructor, example_course):
    login(instructor)
    files = download(client, example_course.slug)
    assert "example-package/course.toml" in files
    assert "example-package/notebooks/first-notebook/scores.csv" in files
    original = export_course(session, slug=example_course.slug)
    # Change the course in the studio, then upload the downloaded zip: it comes back.
    client.post(f"/studio/courses/{example_course.slug}/items/what-is-ai/remove")
    assert upload(client, make_zip(files)).status_code == 303
    session.expire_all()
    assert export_course(session, slug=example_course.slug) == original
    assert download(client, example_course.slug) == files
    # The same package under another slug is a new course, owned by the uploader.
    renamed = {
        name.replace("example-package/", "copy/"): content for name, content in files.items()
    }
    renamed["copy/course.toml"] = renamed["copy/course.toml"].replace(
        b'slug = "example-package"', b'slug = "example-copy"'
    )
    response = upload(client, make_zip(renamed))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/studio/courses/example-copy")
    copy = session.scalar(select(Course).where(Course.slug == "example-copy"))
    assert copy.owner_id == instructor.id
    exported = export_course(session, slug="example-copy")
    exported["course.toml"] = exported["course.toml"].replace(
        b'slug = "example-copy"', b'slug = "example-package"'
    )
    assert exported == original


def test_package_at_zip_top_and_problems_listed(client, session, login, instructor, example_course):
    login(instructor)
    files = {
        name.removeprefix("example-package/"): content
        for name, content in download(client, example_course.slug).items()
    }
    files["course.toml"] = files["course.toml"].replace(b'tier = "public"', b'tier = "vip"')
    files["quizzes/basics-quiz.toml"] = files["quizzes/basics-quiz.toml"].replace(
        b"pass_mark = ", b"pass_mark = 7 #"
    )
    response = upload(client, make_zip(files))
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "nothing was imported" in text
    assert "course.toml:2: " in text
    assert "quizzes/basics-quiz.toml:1: " in text


def count(session):
    return session.scalar(select(func.count()).select_from(Course))


@pytest.mark.parametrize(
    ("files", "links", "message"),
    [
        ({"pkg/course.toml": b"", "pkg/../evil.txt": b"x"}, (), "climb out"),
        ({"pkg/course.toml": b"", "/etc/evil.txt": b"x"}, (), "absolute paths"),
        (
            {"pkg/course.toml": b"", "pkg/lessons/link.md": b"/etc/passwd"},
            ("pkg/lessons/link.md",),
            "links are not allowed",
        ),
        ({"pkg/course.toml": b"", "pkg/run.py": b"import os"}, (), "file type not allowed (.py)"),
        ({"pkg/course.toml": b"", "pkg/.hidden.txt": b"x"}, (), "file type not allowed"),
        ({"pkg/lessons/a.md": b"x"}, (), "no course.toml"),
    ],
)
def test_refused_zips(client, session, login, instructor, files, links, message):
    login(instructor)
    before = count(session)
    response = upload(client, make_zip(files, links=links))
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "The zip was refused and nothing was imported" in text
    assert message in text
    assert count(session) == before


def test_a_zip_with_permissions_but_no_file_type_is_taken(
    client, session, login, instructor, example_course
):
    login(instructor)
    files = download(client, example_course.slug)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)  # as Python writes it: 0o600, no type bits
    assert upload(client, buffer.getvalue()).status_code == 303
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            if name.endswith("course.toml"):
                info.external_attr = (stat.S_IFIFO | 0o644) << 16
            archive.writestr(info, content)
    refused = upload(client, buffer.getvalue())
    assert refused.status_code == 400
    assert "course.toml: not a regular file" in refused.get_data(as_text=True)


def test_not_a_zip(client, login, instructor):
    login(instructor)
    response = upload(client, b"plain text")
    assert response.status_code == 400
    assert "not a zip file" in response.get_data(as_text=True)


def test_too_many_files_and_zip_bomb(app, client, session, login, instructor):
    login(instructor)
    app.config["STUDIO_ZIP_MAX_FILES"] = 5
    many = {f"pkg/lessons/l{n}.en.md": b"x" for n in range(6)}
    response = upload(client, make_zip(many))
    assert "at most 5 are allowed" in response.get_data(as_text=True)
    app.config["STUDIO_ZIP_MAX_UNPACKED_BYTES"] = 100_000
    bomb = make_zip({"pkg/course.toml": b"", "pkg/data.txt": b"0" * 1_000_000})
    assert len(bomb) < 10_000
    response = upload(client, bomb)
    assert response.status_code == 400
    assert "at most 100000 are allowed" in response.get_data(as_text=True)
    assert count(session) == 0 or session.scalar(select(Course).where(Course.slug == "pkg")) is None


def test_lying_sizes_are_caught_while_unpacking(app, client, login, instructor):
    login(instructor)
    app.config["STUDIO_ZIP_MAX_UNPACKED_BYTES"] = 100_000
    data = bytearray(make_zip({"pkg/course.toml": b"", "pkg/data.txt": b"0" * 1_000_000}))
    # Rewrite the declared size (central directory and local header) to something small.
    real = (1_000_000).to_bytes(4, "little")
    data = data.replace(real, (10).to_bytes(4, "little"))
    response = upload(client, bytes(data))
    assert response.status_code == 400
    assert "nothing was imported" in response.get_data(as_text=True)


def test_instructor_cannot_overwrite_a_course_they_do_not_own(
    client, session, make_user, login, instructor, example_course
):
    login(instructor)
    files = download(client, example_course.slug)
    client.post("/logout")
    login(make_user(roles=["instructor"]))
    changed = dict(files)
    changed["example-package/course.toml"] = changed["example-package/course.toml"].replace(
        b'version = "1"', b'version = "2"'
    )
    response = upload(client, make_zip(changed))
    assert response.status_code == 403
    assert "you may not change it" in response.get_data(as_text=True)
    session.refresh(example_course)
    assert example_course.version == "1"
    assert example_course.owner_id == instructor.id
