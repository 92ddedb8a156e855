"""ARM CMSDK APB peripherals (UART, timer), as used on the MPS2 boards."""
