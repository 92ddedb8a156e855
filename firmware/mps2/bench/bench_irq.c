/* Interrupt round trips: 100,000 times set ICSR.PENDSVSET, enter PendSV, count, return. */
#include "lib.h"
#include "regs.h"

#define ROUNDS 100000u
static volatile uint32_t count;
void PendSV_Handler(void) { count++; }

int main(void) {
    for (uint32_t i = 0; i < ROUNDS; i++) {
        SCB_ICSR = ICSR_PENDSVSET;
        while (count != i + 1) { }
    }
    uart_init();
    uart_puts("bench_irq pendsv "); put_dec(count); uart_putc('\n');
    return count == ROUNDS ? 0 : 1;
}
