/* A fault inside the HardFault handler locks the core up: the emulator reports and halts. */
#include "lib.h"
#include "regs.h"

void HardFault_Handler(void) {
    (void)REG(0x60000000u);
    for (;;) { }
}

int main(void) {
    uart_init();
    puts_("BEFORE\n");
    (void)REG(0x60000000u);
    puts_("AFTER\n");
    return 1;
}
