"""Nordic nRF51 series peripherals (nRF51 Series Reference Manual v3.0), one module per block.

Common register layout (see :mod:`._base`): tasks at 0x000-0x07C (write 1 to trigger), events
at 0x100-0x1FC (write 0 to clear), SHORTS 0x200, INTEN 0x300 / INTENSET 0x304 / INTENCLR 0x308,
POWER 0xFFC. An event whose INTEN bit is set holds the peripheral's IRQ line high
(level-sensitive) until the firmware clears the event.
"""
