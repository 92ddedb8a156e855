"""boardemu: a board emulator for MicroPython boards (front-ends live here)."""
__version__ = "0.1.0"
