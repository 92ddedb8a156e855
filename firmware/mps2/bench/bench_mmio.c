/* 1,000,000 reads of UART0 STATE. */
#include "lib.h"
#include "regs.h"
int main(void) {
    uint32_t s = 0;
    for (uint32_t i = 0; i < 1000000u; i++) s += UART0_STATE;
    uart_init(); puts_("bench_mmio "); put_dec(s); putc_('\n');
    return 0;
}
