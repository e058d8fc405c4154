"""``LMS_GRADER_*`` settings: usable values are read, others are refused with their name."""

from __future__ import annotations

import pytest

from graders.errors import GraderError, InvalidSetting
from graders.settings import GraderSettings


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LMS_GRADER_MEMORY_MB", "lots", "LMS_GRADER_MEMORY_MB must be a whole number"),
        ("LMS_GRADER_MEMORY_MB", "1.5", "LMS_GRADER_MEMORY_MB must be a whole number"),
        ("LMS_GRADER_PROCESSES", "0", "LMS_GRADER_PROCESSES must be more than 0"),
        ("LMS_GRADER_CELL_TIMEOUT", "ten", "LMS_GRADER_CELL_TIMEOUT must be a number"),
        ("LMS_GRADER_RUN_TIMEOUT", "-5", "LMS_GRADER_RUN_TIMEOUT must be more than 0"),
        ("LMS_GRADER_RUN_TIMEOUT", "inf", "LMS_GRADER_RUN_TIMEOUT must be more than 0"),
        ("LMS_GRADER_POOL_SIZE", "-1", "LMS_GRADER_POOL_SIZE must be 0 or more"),
    ],
)
def test_an_unusable_value_is_refused_by_name(name, value, message):
    with pytest.raises(InvalidSetting) as refused:
        GraderSettings.from_env({name: value})
    assert message in str(refused.value)
    assert isinstance(refused.value, GraderError) and isinstance(refused.value, ValueError)


def test_usable_values_are_read():
    settings = GraderSettings.from_env(
        {
            "LMS_GRADER_MEMORY_MB": " 2048 ",
            "LMS_GRADER_CELL_TIMEOUT": "2.5",
            "LMS_GRADER_POOL_SIZE": "0",
            "LMS_GRADER_SANDBOX": "off",
        }
    )
    assert (settings.memory_mb, settings.cell_timeout, settings.pool_size) == (2048, 2.5, 0)
    assert not settings.sandbox_enabled


def test_flask_config_values_are_checked_the_same_way():
    assert GraderSettings.from_config({"GRADER_CPU_SECONDS": 30}).cpu_seconds == 30
    with pytest.raises(InvalidSetting, match="LMS_GRADER_CPU_SECONDS"):
        GraderSettings.from_config({"GRADER_CPU_SECONDS": "half a minute"})
