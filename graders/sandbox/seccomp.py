"""The sandbox's seccomp filter, a classic BPF program assembled here (no library needed).

Policy (default: allow; the namespaces, the unprivileged user and --cap-drop ALL do most
of the work, this removes kernel attack surface and the ways out they do not cover):
- another architecture's system calls (x86_64: the x32 ABI too) are refused;
- socket(): only AF_UNIX, AF_INET, AF_INET6 (the network namespace holds nothing but an
  unconnected loopback, and ipykernel aborts without them) and NETLINK_ROUTE; AF_VSOCK
  would reach the VM's host, so it and every other family get EAFNOSUPPORT;
- new namespaces (unshare, setns, clone with CLONE_NEW*), clone3 (its flags are out of
  BPF's reach: ENOSYS makes glibc fall back to clone), ptrace and cross-process memory
  access, mounts, keyrings, bpf, perf, userfaultfd, io_uring, modules, kexec, clocks,
  swap, quotas, handles and the like get EPERM.

Loaded by bwrap (``--seccomp FD``) just before it execs the kernel.
"""

from __future__ import annotations

import platform
import struct

# BPF opcodes (linux/bpf_common.h) and seccomp return values (linux/seccomp.h).
LD_W_ABS, JEQ_K, JSET_K, JGE_K, RET_K = 0x20, 0x15, 0x45, 0x35, 0x06
RET_ALLOW, RET_KILL_PROCESS, RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
EPERM, ENOSYS, EAFNOSUPPORT = 1, 38, 97
OFF_NR, OFF_ARCH, OFF_ARG0, OFF_ARG2 = 0, 4, 16, 32

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, NETLINK_ROUTE = 1, 2, 10, 16, 0
CLONE_NEW_FLAGS = (
    0x00000080
    | 0x00020000
    | 0x02000000
    | 0x04000000
    | 0x08000000
    | 0x10000000
    | 0x20000000
    | 0x40000000
)

DENIED = (
    "unshare",
    "setns",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "kcmp",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "fsopen",
    "fsmount",
    "fsconfig",
    "open_tree",
    "fspick",
    "mount_setattr",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "open_by_handle_at",
    "name_to_handle_at",
    "iopl",
    "ioperm",
    "syslog",
    "lookup_dcookie",
    "fanotify_init",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "vhangup",
    "uselib",
    "ustat",
    "sysfs",
    "_sysctl",
)

# (AUDIT_ARCH value, syscall numbers) per machine; numbers from the kernel's unistd headers.
ARCHES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (
        0xC000003E,
        dict(
            socket=41,
            clone=56,
            clone3=435,
            unshare=272,
            setns=308,
            ptrace=101,
            process_vm_readv=310,
            process_vm_writev=311,
            pidfd_getfd=438,
            kcmp=312,
            mount=165,
            umount2=166,
            pivot_root=155,
            chroot=161,
            move_mount=429,
            fsopen=430,
            fsmount=432,
            fsconfig=431,
            open_tree=428,
            fspick=433,
            mount_setattr=442,
            keyctl=250,
            add_key=248,
            request_key=249,
            bpf=321,
            perf_event_open=298,
            userfaultfd=323,
            io_uring_setup=425,
            io_uring_enter=426,
            io_uring_register=427,
            kexec_load=246,
            kexec_file_load=320,
            init_module=175,
            finit_module=313,
            delete_module=176,
            reboot=169,
            swapon=167,
            swapoff=168,
            acct=163,
            quotactl=179,
            open_by_handle_at=304,
            name_to_handle_at=303,
            iopl=172,
            ioperm=173,
            syslog=103,
            lookup_dcookie=212,
            fanotify_init=300,
            settimeofday=164,
            clock_settime=227,
            clock_adjtime=305,
            adjtimex=159,
            vhangup=153,
            uselib=134,
            ustat=136,
            sysfs=139,
            _sysctl=156,
        ),
    ),
    "aarch64": (
        0xC00000B7,
        dict(
            socket=198,
            clone=220,
            clone3=435,
            unshare=97,
            setns=268,
            ptrace=117,
            process_vm_readv=270,
            process_vm_writev=271,
            pidfd_getfd=438,
            kcmp=272,
            mount=40,
            umount2=39,
            pivot_root=41,
            chroot=51,
            move_mount=429,
            fsopen=430,
            fsmount=432,
            fsconfig=431,
            open_tree=428,
            fspick=433,
            mount_setattr=442,
            keyctl=219,
            add_key=217,
            request_key=218,
            bpf=280,
            perf_event_open=241,
            userfaultfd=282,
            io_uring_setup=425,
            io_uring_enter=426,
            io_uring_register=427,
            kexec_load=104,
            kexec_file_load=294,
            init_module=105,
            finit_module=273,
            delete_module=106,
            reboot=142,
            swapon=224,
            swapoff=225,
            acct=89,
            quotactl=60,
            open_by_handle_at=265,
            name_to_handle_at=264,
            syslog=116,
            lookup_dcookie=18,
            fanotify_init=262,
            settimeofday=170,
            clock_settime=112,
            clock_adjtime=266,
            adjtimex=171,
            vhangup=58,
        ),
    ),
}
X32_SYSCALL_BIT = 0x40000000


class UnsupportedMachine(Exception):
    """No filter is defined for this CPU architecture."""


def _assemble(program: list[tuple]) -> bytes:
    """Resolve ("label", name) markers and symbolic jump targets; pack struct sock_filter."""
    labels: dict[str, int] = {}
    code: list[tuple] = []
    for item in program:
        if item[0] == "label":
            labels[item[1]] = len(code)
        else:
            code.append(item)

    def offset(here: int, target: int | str) -> int:
        if isinstance(target, int):
            return target
        distance = labels[target] - here - 1
        if not 0 <= distance <= 255:
            raise ValueError(f"jump to {target} out of range")
        return distance

    out = bytearray()
    for here, (op, k, jt, jf) in enumerate(code):
        out += struct.pack("<HBBI", op, offset(here, jt), offset(here, jf), k)
    return bytes(out)


def build_filter(machine: str | None = None) -> bytes:
    """The filter for ``machine`` (default: this one) as bytes for ``bwrap --seccomp``."""
    machine = machine or platform.machine()
    if machine not in ARCHES:
        raise UnsupportedMachine(f"no seccomp filter for {machine}")
    audit_arch, nr = ARCHES[machine]
    p: list[tuple] = [
        (LD_W_ABS, OFF_ARCH, 0, 0),
        (JEQ_K, audit_arch, 1, 0),
        (RET_K, RET_KILL_PROCESS, 0, 0),
        (LD_W_ABS, OFF_NR, 0, 0),
    ]
    if machine == "x86_64":
        p.append((JGE_K, X32_SYSCALL_BIT, "deny_nosys", 0))
    p += [
        (JEQ_K, nr["socket"], "socket", 0),
        (JEQ_K, nr["clone"], "clone", 0),
        (JEQ_K, nr["clone3"], "deny_nosys", 0),
    ]
    p += [(JEQ_K, nr[name], "deny", 0) for name in DENIED if name in nr]
    p += [
        (RET_K, RET_ALLOW, 0, 0),
        ("label", "socket"),
        (LD_W_ABS, OFF_ARG0, 0, 0),
        (JEQ_K, AF_UNIX, "allow", 0),
        (JEQ_K, AF_INET, "allow", 0),
        (JEQ_K, AF_INET6, "allow", 0),
        (JEQ_K, AF_NETLINK, 0, "deny_family"),
        (LD_W_ABS, OFF_ARG2, 0, 0),
        (JEQ_K, NETLINK_ROUTE, "allow", "deny_family"),
        ("label", "clone"),
        (LD_W_ABS, OFF_ARG0, 0, 0),
        (JSET_K, CLONE_NEW_FLAGS, "deny", "allow"),
        ("label", "allow"),
        (RET_K, RET_ALLOW, 0, 0),
        ("label", "deny"),
        (RET_K, RET_ERRNO | EPERM, 0, 0),
        ("label", "deny_nosys"),
        (RET_K, RET_ERRNO | ENOSYS, 0, 0),
        ("label", "deny_family"),
        (RET_K, RET_ERRNO | EAFNOSUPPORT, 0, 0),
    ]
    return _assemble(p)
