/* 100,000 PendSV round trips: pend, enter, handler, return. */
#include "lib.h"
#include "regs.h"
static volatile uint32_t count;
void PendSV_Handler(void) { count++; }
int main(void) {
    for (uint32_t i = 0; i < 100000u; i++) { SCB_ICSR = ICSR_PENDSVSET; while (count != i + 1) { } }
    uart_init(); puts_("bench_irq "); put_dec(count); putc_('\n');
    return count == 100000u ? 0 : 1;
}
