/* MMIO-bound: 1,000,000 reads of UART0 STATE (4 instructions per read). */
#include "lib.h"
#include "regs.h"

#define READS 1000000u

int main(void) {
    uint32_t s = 0, i;
    for (i = 0; i < READS; i++) s += UART0_STATE;
    uart_init();
    uart_puts("bench_mmio reads "); put_dec(i); uart_puts(" state sum "); put_dec(s); uart_putc('\n');
    return 0;
}
