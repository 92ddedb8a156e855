"""Board parts: things on the board around the chip (LED matrix, buttons, I2C sensors).

A part type ``name`` is the module ``boardemu.peripherals.parts.name`` whose ``MODEL`` is
constructed as ``MODEL(machine, spec)`` with the board file's ``[[parts]]`` table. Parts see
the chip only through pins (``machine.pins``) and buses (an I2C part attaches itself to the
TWI/I2C controller named by ``bus``); they report to front-ends with events.
"""
