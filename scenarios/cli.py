"""``boardemu scenario run FILE...``: run scenario files, print each step, exit with the worst status.

Exit status: 0 every scenario passed, 1 a step failed, 2 a scenario error (bad YAML, unknown
step, key, pin, part or port, missing firmware: one line on stderr), 3 the scenario's timeout of
board time ran out. With several files each runs; the status is the worst (3 > 2 > 1 > 0).
"""
from __future__ import annotations

import sys
from pathlib import Path

SEVERITY = {0: 0, 1: 1, 2: 2, 3: 3}


def add_scenario_parser(sub):
    s = sub.add_parser("scenario", help="run test scenarios (YAML) against emulated boards",
                       description="Scenario files drive a board (serial, pins, parts, MicroPython's raw REPL) "
                                   "and check what it does, in board time. See scenarios/README.md.")
    ssub = s.add_subparsers(dest="scenario_cmd", metavar="ACTION")
    r = ssub.add_parser("run", help="run scenario files",
                        description="Run each scenario FILE; print each step as it passes; on the first "
                                    "failure print the step, why, and the last lines of serial output.",
                        epilog="Exit status: 0 pass, 1 a step failed, 2 scenario error (bad file, unknown "
                               "step/pin/part, missing firmware), 3 the scenario's board-time timeout ran out. "
                               "Several files: the worst status.")
    r.add_argument("files", nargs="+", metavar="FILE", help="scenario file (.yaml), or a directory of them")
    r.add_argument("--junit", metavar="XML", help="write a JUnit XML report (one testcase per file)")
    r.add_argument("--vcd", metavar="FILE", help="write a VCD trace (pins, serial bytes, resets); with several "
                                                 "files, one each: NAME.N-STEM.vcd")
    r.add_argument("--serial-log", metavar="FILE", help="write the board console output (raw bytes); with "
                                                        "several files, one each like --vcd")
    r.add_argument("--quiet", "-q", action="store_true", help="print only failures and the summary")
    s.set_defaults(_scenario_parser=s)
    return s


def per_file(template: str | None, scenario: Path, index: int, count: int) -> Path | None:
    """The output file for one scenario: TEMPLATE itself for one file, else NAME.N-STEM.EXT."""
    if not template:
        return None
    t = Path(template)
    if count == 1:
        return t
    suffix = "".join(t.suffixes[-1:])
    base = t.name[: -len(suffix)] if suffix else t.name
    return t.with_name(f"{base}.{index + 1}-{scenario.stem}{suffix}")


def cmd_scenario(args) -> int:
    if getattr(args, "scenario_cmd", None) != "run":
        args._scenario_parser.print_help()
        return 2
    from .engine import run_scenario
    from .loader import looks_like_scenario
    from .report import write_junit
    files = []
    for f in map(Path, args.files):              # a directory: the scenario files under it
        if f.is_dir():
            files += sorted(p for p in f.rglob("*.y*ml") if p.suffix in (".yaml", ".yml") and looks_like_scenario(p))
        else:
            files.append(f)
    if not files:
        print(f"boardemu: no scenario files in {' '.join(args.files)}", file=sys.stderr)
        return 2
    results = []
    worst = 0
    out = sys.stdout

    for i, f in enumerate(files):
        buffered = []

        def echo(line, buffered=buffered):
            if args.quiet:
                buffered.append(line)
            else:
                print(line, file=out, flush=True)
        res = run_scenario(f, echo=echo, vcd=per_file(args.vcd, f, i, len(files)),
                           serial_log=per_file(args.serial_log, f, i, len(files)))
        results.append(res)
        if res.status == "error":
            print(f"boardemu: scenario error: {res.message}", file=sys.stderr, flush=True)
        elif args.quiet and res.status != "pass":
            print("\n".join(buffered), file=out, flush=True)
        worst = max(worst, res.exit_code, key=SEVERITY.get)
    if len(files) > 1 or args.quiet:
        counts = {s: sum(r.status == s for r in results) for s in ("pass", "fail", "timeout", "error")}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        print(f"{len(files)} scenario{'s' * (len(files) != 1)}: {summary}", file=out, flush=True)
    if args.junit:
        write_junit(args.junit, results)
    return worst
