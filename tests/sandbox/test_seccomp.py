"""The hand-assembled seccomp program is well formed for every supported machine."""

from __future__ import annotations

import struct

import pytest

from graders.sandbox import seccomp


@pytest.mark.parametrize("machine", sorted(seccomp.ARCHES))
def test_filter_is_well_formed_and_covers_the_deny_list(machine):
    program = seccomp.build_filter(machine)
    assert len(program) % 8 == 0 and len(program) // 8 < 4096  # BPF_MAXINSNS
    instructions = [struct.unpack("<HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    audit_arch, numbers = seccomp.ARCHES[machine]
    assert instructions[1] == (seccomp.JEQ_K, 1, 0, audit_arch)  # foreign ABIs are killed
    compared = {k for op, _, _, k in instructions if op == seccomp.JEQ_K}
    assert {numbers[name] for name in seccomp.DENIED if name in numbers} <= compared
    for index, (op, jt, jf, _) in enumerate(instructions):
        if op != seccomp.RET_K:  # every jump lands inside the program
            assert index + 1 + max(jt, jf) < len(instructions)
    assert instructions[-1][0] == seccomp.RET_K


def test_unknown_machines_get_no_filter():
    with pytest.raises(seccomp.UnsupportedMachine):
        seccomp.build_filter("sparc64")
