"""Boot ROM services the emulator performs: the project's ROM (firmware/rp2040/bootrom) calls
them with ``bkpt #n`` and returns with ``bx lr``.

  bkpt 0x10  flash_range_erase(offs, count, block_size, cmd): erase to 0xFF
  bkpt 0x11  flash_range_program(offs, data, count): NOR program (AND) from RAM
  bkpt 0x12  reset_usb_boot(): the chip would enter USB mass-storage boot: halt 'bootloader'
  bkpt 0x13  no valid boot2 in flash: halt 'no-boot2'

Installed by the SSI model (the flash interface of the chip).
"""
from __future__ import annotations

from unicorn import arm_const as A

from boardemu.emulator import events as ev

from .flashchip import flash_erase, flash_program


def install(machine):
    cpu = machine.cpu
    uc = cpu.uc

    def arg(i):
        return uc.reg_read(A.UC_ARM_REG_R0 + i)

    def resume(pc):
        uc.reg_write(A.UC_ARM_REG_PC, (pc + 2) | 1)

    def erase(pc):
        offs, count = arg(0), arg(1)
        if not flash_erase(machine, offs, count):
            machine.events.emit(ev.WARNING, message=f"boot ROM flash_range_erase(0x{offs:x}, {count}) "
                                                    f"outside the flash: ignored")
        resume(pc)

    def program(pc):
        offs, data, count = arg(0), arg(1), arg(2)
        ok = False
        try:
            ok = flash_program(machine, offs, machine.bus.read(data, count))
        except Exception:
            ok = False
        if not ok:
            machine.events.emit(ev.WARNING, message=f"boot ROM flash_range_program(0x{offs:x}, 0x{data:x}, "
                                                    f"{count}) out of range: ignored")
        resume(pc)

    def usb_boot(pc):
        machine.halt("bootloader", pc=pc)
        resume(pc)

    def no_boot2(pc):
        machine.events.emit(ev.WARNING, message="boot ROM: no valid boot2 at the start of flash "
                                                "(bad CRC): not a bootable RP2040 image")
        machine.halt("no-boot2", pc=pc)
        resume(pc)

    cpu.bkpt_handlers.update({0x10: erase, 0x11: program, 0x12: usb_boot, 0x13: no_boot2})
