/* A fault inside the HardFault handler: the core locks up (ARMv7-M: it cannot escalate
 * further). Prints BEFORE, faults, and never prints AFTER. QEMU aborts with "Lockup"; boardemu
 * must report the lockup as a fault and halt (exit status 125). */
#include "lib.h"
#include "regs.h"

void HardFault_Handler(void) {
    (void)REG(0x60000000u);             /* faults again at HardFault priority: lockup */
    uart_puts("HARDFAULT HANDLER CONTINUED\n");
    for (;;) { }
}

int main(void) {
    uart_init();
    uart_puts("BEFORE\n");
    (void)REG(0x60000000u);
    uart_puts("AFTER\n");
    return 1;
}
