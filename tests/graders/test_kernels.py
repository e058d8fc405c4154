"""The local kernel provider: a private working directory with the data files, no secrets."""

from __future__ import annotations

import pytest

from graders.execute import reply_of
from graders.kernels import LocalKernelProvider, provider_for
from graders.settings import GraderSettings


def evaluate(handle, expression: str) -> str:
    msg_id = handle.kc.execute(
        "", silent=True, store_history=False, user_expressions={"x": expression}
    )
    reply = reply_of(handle, msg_id, 10)
    return reply["user_expressions"]["x"]["data"]["text/plain"]


def test_the_kernel_sees_its_files_and_no_secrets(monkeypatch, provider):
    monkeypatch.setenv("LMS_SECRET_KEY", "do-not-leak")
    files = {"data.csv": b"a,b\n1,2\n", "sub/more.txt": b"more"}
    with provider.acquire(timeout=30, files=files) as handle:
        assert "LMS_SECRET_KEY" not in evaluate(handle, "dict(__import__('os').environ)")
        assert evaluate(handle, "open('data.csv').read()") == repr("a,b\n1,2\n")
        assert evaluate(handle, "open('sub/more.txt').read()") == repr("more")
        assert evaluate(handle, "sorted(__import__('os').listdir('.'))") == "['data.csv', 'sub']"
    assert not handle.km.is_alive()  # single use: gone after the context


@pytest.mark.parametrize("name", ["/etc/passwd", "../escape.txt", "a/../../b", ""])
def test_unsafe_file_names_are_refused(name):
    with pytest.raises(ValueError), LocalKernelProvider().acquire(timeout=5, files={name: b"x"}):
        pass


def test_sandbox_off_gives_the_local_provider():
    assert isinstance(provider_for(GraderSettings(sandbox="off")), LocalKernelProvider)
