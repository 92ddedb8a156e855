"""pytest plugin (entry point ``boardemu``, active when boardemu is installed; ``-p no:boardemu``
turns it off).

* Collects scenario files: every ``*.yaml`` / ``*.yml`` under the paths pytest is given that
  has a top-level ``steps:`` key is one test item; a failing item shows the runner's report
  (the steps that passed, the failing step, why, the serial output tail). A scenario that
  relies on a board's default firmware which is not installed is skipped.
  ``--scenario-artifacts DIR`` keeps each scenario's VCD trace and console log in DIR.
* Fixtures: ``machine`` -- a factory, ``machine("mps2-an385", "path.elf")`` returns a built
  Machine (power-on reset done, not yet run); the default firmware of the board when the path
  is left out; machines are paused and dropped after the test. ``board`` -- a Machine for the
  board named by ``@pytest.mark.board("name", firmware=...)`` or by indirect parametrization
  (``@pytest.mark.parametrize("board", ["microbit"], indirect=True)``); without either, the BBC
  micro:bit with its default MicroPython image (the test is skipped when that image or board is
  not there).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

DEFAULT_BOARD = "microbit"


def pytest_addoption(parser):
    group = parser.getgroup("boardemu", "boardemu scenarios")
    group.addoption("--scenario-artifacts", metavar="DIR", default=None,
                    help="write each scenario's VCD trace and console log into DIR")


def pytest_configure(config):
    config.addinivalue_line("markers", "board(name, firmware=None): the board (and firmware) the `board` "
                                       "fixture builds")


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix in (".yaml", ".yml"):
        from boardemu.scenarios.loader import looks_like_scenario
        if looks_like_scenario(file_path):
            return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFailed(Exception):
    def __init__(self, result):
        super().__init__(result.message)
        self.result = result


class ScenarioFile(pytest.File):
    def collect(self):
        yield ScenarioItem.from_parent(self, name=self.path.stem)


class ScenarioItem(pytest.Item):
    def runtest(self):
        from boardemu.scenarios.engine import run_scenario

        art = self.config.getoption("scenario_artifacts")
        outdir = None
        vcd = log = None
        if art:
            outdir = Path(art)
            outdir.mkdir(parents=True, exist_ok=True)
            stem = re.sub(r"[^A-Za-z0-9_.-]", "_", self.nodeid.split("::")[0])
            vcd, log = outdir / f"{stem}.vcd", outdir / f"{stem}.log"
        else:
            factory = getattr(self.config, "_tmp_path_factory", None)
            if factory is not None:          # capture files go to a fresh temporary directory
                def outdir(name=re.sub(r"\W", "_", self.name)[:30]):
                    return factory.mktemp(name, numbered=True)
        res = run_scenario(self.path, vcd=vcd, serial_log=log, outdir=outdir)
        self.user_properties.append(("board_time_s", res.time_ns / 1e9))
        if res.missing_default_firmware:
            pytest.skip(res.message)
        if res.status != "pass":
            raise ScenarioFailed(res)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ScenarioFailed):
            r = excinfo.value.result
            head = {"error": "scenario error", "timeout": "board timeout", "fail": "scenario failed"}[r.status]
            return f"{head}: {r.message}\n\n{r.report}" if r.status != "error" else f"{head}: {r.message}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, 0, f"scenario {self.path.name}"


# -- fixtures --------------------------------------------------------------------------------------
def _build(board, firmware=None, **kw):
    from boardemu.emulator.board import load_board
    from boardemu.emulator.machine import Machine

    b = load_board(board)
    if firmware is None:
        default = b.get("firmware.default")
        if not default:
            raise ValueError(f"board {b.name} has no default firmware: give one")
        if not Path(default).is_file():
            pytest.skip(f"the default firmware of {b.name} is missing: {default}")
        firmware = default
    return Machine(b, str(firmware), **kw)


@pytest.fixture
def machine():
    """Factory: ``machine(board, firmware=None, **Machine_kwargs)`` -> Machine (cleaned up after)."""
    made = []

    def factory(board, firmware=None, **kw):
        m = _build(board, firmware, **kw)
        made.append(m)
        return m
    yield factory
    for m in made:
        m.pause()
    made.clear()


@pytest.fixture
def board(request, machine):
    """A Machine for ``@pytest.mark.board(name, firmware=None)`` / indirect param / the micro:bit."""
    firmware = None
    if hasattr(request, "param"):
        p = request.param
        if isinstance(p, (tuple, list)):
            name, firmware = p[0], (p[1] if len(p) > 1 else None)
        elif isinstance(p, dict):
            name, firmware = p["name"], p.get("firmware")
        else:
            name = p
    else:
        marker = request.node.get_closest_marker("board")
        if marker is not None:
            name = marker.args[0] if marker.args else marker.kwargs["name"]
            firmware = marker.kwargs.get("firmware", marker.args[1] if len(marker.args) > 1 else None)
        else:
            from boardemu.boards.schema import BoardError
            from boardemu.emulator.board import load_board
            try:
                load_board(DEFAULT_BOARD)
            except BoardError:
                pytest.skip("the micro:bit board is not available")
            name = DEFAULT_BOARD
    return machine(name, firmware)
