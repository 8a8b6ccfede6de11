"""The soak: minutes of half-capacity load with many sockets open, one never reading.

`python -m chaos.soak [--duration S] [--sockets N] [--keep-stack] [--output FILE]`, or
`run(log, duration_s, sockets, profile_name)` from chaos/__main__: that runs the same command as a
child process and passes its lines to `log`, so the caller's process never meets gevent (whose
patching must precede every other import) nor the soak's file-descriptor limit. The phases are in
chaos/soak_run.py.

1. Stack and data: starts the `soak` stack (`python -m stack start --profile soak`: its own
   gateway port, databases `*_soak`, vhost `taskwire_soak`), seeds it with harness/seed.py (1,000
   users, 100,000 tasks; what earlier runs created is removed), logs in the admin, up to 100 users and
   a dedicated admin for the slow socket (`soak-slow-admin`, created through the API, so that the
   relay's log names that socket alone).
2. Readers: N - 1 sockets through the gateway (`/ws/tasks/`): 1 % on the admin's token, the rest
   spread over the users (~10 each with 1,000 sockets). Each reads everything, answers the
   relay's pings (websocket-client does) and counts what it gets and how it ended.
3. Capacity: wrk (2 threads, 32 connections) flat out with the soak's own request mix
   (chaos/soak_load.py: 80 % task lists by the users, 10 % updates, 5 % creates, 5 % deletes of
   those creates, the writes by the admin on the users' tasks): a 5 s warm-up, then the median of
   2 x 15 s (1 x 10 s for runs under 5 minutes). The readers are open meanwhile, so the capacity
   includes the fan-out the writes cause. Target: half of it.
4. Soak: the never-reading admin socket is opened (its SO_RCVBUF shrunk to 4 KiB so that the
   client's kernel holds little of the backlog; the relay's bounds are what must give), then wrk
   runs in segments (10 s, then 30 s each, a progress line after each) with 16 connections paced
   by wrk's Lua `delay()`: Debian's wrk has no constant-rate mode, so after each segment the pause
   is recomputed from the rate it achieved (pause + response time = 16 / target). The achieved
   rate is what is reported. Every 10 s (5 s in runs under 5 minutes) the VmRSS of every process
   of the stack is read from /proc: supervisord, each program (pids from `supervisorctl status`)
   and their descendants (gunicorn and nginx workers), labelled `<program>/worker<n>`.
5. End: the readers get up to 15 s for the last events; the slow socket is read at last (what
   reached it, and how the connection ended: close frame, reset, or still open); the relay's log
   says when it dropped the slow admin's socket and with which code; the stack's logs are searched
   for ERROR lines; the stack is stopped (unless --keep-stack).

How the slow socket is dropped: the relay closes a socket with 1013 when its send queue
(WS_SEND_QUEUE_SIZE, 256) is full or a write blocks WS_SEND_TIMEOUT_SECONDS (10), and with 1008
when a ping (every WS_PING_INTERVAL_SECONDS, 25, while the socket is idle) is not answered by the
next one. A client that never reads never answers pings either, so whichever bound is reached
first drops it: 1013 when the backlog fills the kernels' buffers on the way (client, nginx both
ways, the relay's socket: a few hundred KiB) within ~40 s, else 1008 after ~50 s. Both count as
dropped; the result says which happened. The relay's close frame cannot reach a client that does
not read, so the client sees the connection reset or ended once it reads.

Criteria (all must hold for "ok"; the capacity runs overload on purpose and are only reported):
no non-2xx answer and no socket error during the soak; the achieved rate within 10 % of the
target; no reading socket closed; every reading socket received a message in the second half
(updates and creates go round the users in turn); every reading admin socket received at least
one task event per write acknowledged since the readers opened, and every socket of one user the
same messages (nothing lost); the slow socket dropped (1013 or 1008) and found closed by the
client; every process's RSS flat within 10 % (either way: the median of a first window after a
warm-up against the median of the last window, 60 s each in a 10-minute run, a sixth of the run in
shorter ones); no process replaced by a new pid; no ERROR line in the stack's logs.

While it runs, /tmp/taskwire-soak.running exists (the fault runner waits while it does); lines
added to /tmp/taskwire-faults.log meanwhile are reported, so that a fault can explain an error.
"""
from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from stack.config import REPO


def run(log, duration_s: float = 600, sockets: int = 1000, profile_name: str = "soak",
        keep_stack: bool = False) -> dict:
    """The soak in a child process (gevent stays out of the caller's); its lines go to `log`, its result is returned."""
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "soak.json"
        command = [sys.executable, "-m", "chaos.soak", "--duration", str(duration_s), "--sockets", str(sockets),
                   "--profile", profile_name, "--output", str(output), "--no-print"]
        child = subprocess.Popen(command + (["--keep-stack"] if keep_stack else []), cwd=REPO,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            for line in child.stdout or ():
                log(line.rstrip("\n"))
        finally:
            if child.poll() is None:  # the caller was interrupted: the child stops its stack and removes its marker
                child.terminate()
        code = child.wait()
        if output.exists():
            return json.loads(output.read_text())
    return {"ok": False, "failed": ["run_completed"], "error": f"the soak process exited with {code} and no result",
            "duration_s": duration_s, "sockets": sockets}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of soak (default 600)")
    parser.add_argument("--sockets", type=int, default=1000, help="WebSocket clients, one never reading (default 1000)")
    parser.add_argument("--profile", default="soak", help="the stack profile (default soak)")
    parser.add_argument("--keep-stack", action="store_true", help="leave the stack running afterwards")
    parser.add_argument("--output", type=Path, help="also write the result as JSON to this file")
    parser.add_argument("--no-print", action="store_true", help="do not print the result (run() reads --output)")
    args = parser.parse_args()

    from gevent import monkey
    monkey.patch_all()  # a thousand WebSocket clients as greenlets: before the runner imports anything
    from .soak_run import run_here

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that a stop still stops the stack (finally)
    result = run_here(lambda line: print(line, flush=True), args.duration, args.sockets, args.profile,
                      keep_stack=args.keep_stack)
    text = json.dumps(result, indent=2)
    if args.output:
        args.output.write_text(text + "\n")
    if not args.no_print:
        print(text)
    print(f"soak: {'every criterion met' if result['ok'] else 'FAILED: ' + ', '.join(result['failed'])}", flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
