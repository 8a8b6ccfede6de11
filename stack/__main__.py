"""Command line: python -m stack {up,start,stop,status,migrate,run,logs} [--profile dev|test]."""
import argparse
import subprocess
import sys

from . import commands
from .config import load_profile, profile_names


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    profile = load_profile(args.profile)
    try:
        if args.command == "run":
            command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
            return commands.run(profile, args.process, command)
        return {
            "up": commands.up,
            "start": commands.start,
            "stop": commands.stop,
            "status": commands.status,
            "migrate": commands.migrate,
            "logs": commands.follow_logs,
        }[args.command](profile)
    except commands.StackError as e:
        print(f"stack: ERROR: {e}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as e:
        print(f"stack: ERROR: {' '.join(map(str, e.cmd))} exited with {e.returncode}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", choices=profile_names(), default="dev")
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", parents=[common], help="run every process in the foreground with logs")
    sub.add_parser("start", parents=[common], help="start in the background, wait until healthy")
    sub.add_parser("stop", parents=[common], help="stop the profile's processes")
    sub.add_parser("status", parents=[common], help="supervisorctl status")
    sub.add_parser("migrate", parents=[common], help="create databases and run migrations")
    sub.add_parser("logs", parents=[common], help="follow the profile's logs")
    run = sub.add_parser("run", parents=[common], help="run a command with a process's env")
    run.add_argument("process")
    run.add_argument("argv", nargs=argparse.REMAINDER)
    return parser


if __name__ == "__main__":
    sys.exit(main())
