/* AIRCR.SYSRESETREQ resets the chip: the reset handler runs again from the vector table and
 * RAM is kept (a .noinit word carries a magic across). Core state is reset: PRIMASK is set
 * before the reset and must read 0 after, the NVIC enable set before the reset is cleared. */
#include "lib.h"
#include "regs.h"

#define MAGIC 0xB007B007u
__attribute__((section(".noinit"))) volatile uint32_t magic;

int main(void) {
    uart_init();
    if (magic == MAGIC) {
        magic = 0;
        check(1, "SYSRESETREQ rebooted the chip with RAM kept");
        check_eq(get_primask(), 0, "PRIMASK is 0 after the reset");
        check_eq(get_ipsr(), 0, "thread mode after the reset");
        check_eq(NVIC_ISER, 0, "NVIC enables cleared by the reset");
        finish();
    }
    magic = MAGIC;
    NVIC_ISER = 1u << 30;
    uart_puts("REBOOTING\n");
    irq_disable();
    SCB_AIRCR = AIRCR_VECTKEY | AIRCR_SYSRESETREQ;
    barrier();
    for (;;) { }
}
