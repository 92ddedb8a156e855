"""Boot ROM services the emulator performs: the project's ROM (firmware/rp2040/bootrom) calls
them with ``bkpt #n`` and returns with ``bx lr``.

  bkpt 0x10  flash_range_erase(offs, count, block_size, block_cmd): whole 4 KiB sectors covering
             [offs, offs+count) to 0xFF (the ROM's contract: offs and count sector-aligned)
  bkpt 0x11  flash_range_program(offs, data, count): NOR program (AND) from memory at `data`
  bkpt 0x12  reset_usb_boot(pin_mask, disable_mask): the chip would reboot into its USB
             mass-storage bootloader: warning event, halt 'bootloader'
  bkpt 0x13  no valid boot2 at the start of flash (CRC): warning event, halt 'no-boot2'

Offsets are from the start of the board's flash (0x10000000). Requests outside the flash leave it
alone and emit a warning event. Code translated from the changed bytes is dropped.

Installed by the SSI model (the flash interface of the chip).
"""
from __future__ import annotations

from unicorn import arm_const as A

from boardemu.emulator import events as ev

from .flashchip import flash_erase, flash_program, flash_region

SECTOR = 4096


def install(machine):
    cpu = machine.cpu
    uc = cpu.uc

    def arg(i):
        return uc.reg_read(A.UC_ARM_REG_R0 + i)

    def resume(pc):
        uc.reg_write(A.UC_ARM_REG_PC, (pc + 2) | 1)

    def warn(message):
        machine.events.emit(ev.WARNING, message=f"boot ROM {message}")

    def erase(pc):
        offs, count = arg(0), arg(1)
        size = flash_region(machine).size
        lo = offs - offs % SECTOR
        hi = -(-(offs + count) // SECTOR) * SECTOR
        if count and not (hi <= size and flash_erase(machine, lo, hi - lo)):
            warn(f"flash_range_erase(0x{offs:x}, 0x{count:x}) outside the {size // 1024} KiB flash: ignored")
        resume(pc)

    def program(pc):
        offs, data, count = arg(0), arg(1), arg(2)
        size = flash_region(machine).size
        ok = offs + count <= size
        if ok and count:
            try:
                ok = flash_program(machine, offs, machine.bus.read(data, count))
            except Exception:            # source not readable (unmapped)
                ok = False
        if not ok:
            warn(f"flash_range_program(0x{offs:x}, 0x{data:08x}, 0x{count:x}) out of range: ignored")
        resume(pc)

    def usb_boot(pc):
        warn(f"reset_usb_boot(0x{arg(0):x}, 0x{arg(1):x}): the chip would reboot into its USB "
             f"mass-storage bootloader")
        machine.halt("bootloader", pc=pc)
        resume(pc)

    def no_boot2(pc):
        warn("found no valid boot2 at the start of flash (its CRC32 at offset 252 does not match): "
             "not a bootable RP2040 image")
        machine.halt("no-boot2", pc=pc)
        resume(pc)

    cpu.bkpt_handlers.update({0x10: erase, 0x11: program, 0x12: usb_boot, 0x13: no_boot2})
