"""``python -m graders.sandbox setup | check | bench [ROUNDS]``."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "setup":
        from graders.sandbox import provision

        return provision.main(argv[1:])
    if command == "check":
        from graders.sandbox import SandboxUnavailable, check_sandbox
        from graders.settings import GraderSettings

        try:
            check_sandbox(GraderSettings.from_env())
        except SandboxUnavailable as error:
            print(error, file=sys.stderr)
            return 3
        print("the grading sandbox works")
        return 0
    if command == "bench":
        from graders.sandbox import bench

        return bench.main(argv[1:])
    print("usage: python -m graders.sandbox setup | check | bench [ROUNDS]", file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
