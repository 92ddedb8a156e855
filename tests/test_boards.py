"""Board definitions: the shipped boards load; mistakes name the file and the key path."""
import pytest

from boardemu.boards.schema import BoardError
from boardemu.emulator.board import board_names, load_board

from conftest import run_cli

GOOD = """
name = "t"
[chip]
name = "x"
cpu = "cortex-m3"
clock_hz = 1000000
irqs = 8
priority_bits = 3
[[memory]]
name = "ram"
base = 0x20000000
size = "16K"
kind = "ram"
"""


def test_shipped_boards_load():
    names = board_names()
    assert "mps2-an385" in names
    for n in names:
        b = load_board(n)
        assert b.name == n


def write(tmp_path, text):
    p = tmp_path / "b.toml"
    p.write_text(text)
    return p


def test_good_board_file(tmp_path):
    b = load_board(str(write(tmp_path, GOOD)))
    assert b.data["memory"][0]["size"] == 16384


@pytest.mark.parametrize("mutate, where", [
    (lambda s: s.replace('clock_hz = 1000000', 'clock_hz = "fast"'), "chip.clock_hz"),
    (lambda s: s.replace('size = "16K"', 'size = "lots"'), "memory[0].size"),
    (lambda s: s.replace('cpu = "cortex-m3"', 'cpu = "cortex-a9"'), "chip.cpu"),
    (lambda s: s.replace('irqs = 8', 'irqs = 8\nspeed = 3'), "chip.speed"),
    (lambda s: s.replace('name = "x"\n', ''), "chip.name"),
    (lambda s: s + '[peripherals.u]\ntype = "cmsdk.uart"\nbase = 0x40000000\nirqs = [9]\n', "peripherals.u.irqs"),
    (lambda s: s.replace('kind = "ram"', 'kind = "dram"'), "memory[0].kind"),
])
def test_board_mistakes_name_file_and_key(tmp_path, mutate, where):
    p = write(tmp_path, mutate(GOOD))
    with pytest.raises(BoardError) as e:
        load_board(str(p))
    msg = str(e.value)
    assert msg.startswith(str(p) + ": ")
    assert where in msg
    assert "\n" not in msg


def test_toml_syntax_error_has_line(tmp_path):
    p = write(tmp_path, GOOD.replace("[chip]", "[chip"))
    with pytest.raises(BoardError) as e:
        load_board(str(p))
    assert "line 3" in str(e.value)


def test_cli_bad_board_file_is_one_line(tmp_path):
    p = write(tmp_path, GOOD.replace('priority_bits = 3', 'priority_bits = "x"'))
    r = run_cli("run", "--board", p, "nothing.elf")
    assert r.returncode == 2
    err = r.stderr.decode().strip()
    assert len(err.splitlines()) == 1 and "chip.priority_bits" in err and "Traceback" not in err


def test_cli_unknown_board():
    r = run_cli("run", "--board", "no-such-board", "x.elf")
    assert r.returncode == 2
    assert "unknown board" in r.stderr.decode() and "mps2-an385" in r.stderr.decode()


def test_cli_lists_boards():
    r = run_cli("boards")
    assert r.returncode == 0
    assert "mps2-an385" in r.stdout.decode() and "cortex-m3" in r.stdout.decode()
