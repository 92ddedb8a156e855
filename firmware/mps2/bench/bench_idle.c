/* 10 s of board time: a 1 kHz timer interrupt and WFI in between (10,000 wake-ups). */
#include "lib.h"
#include "regs.h"
static volatile uint32_t count;
void IRQ8_Handler(void) { TIMER_INTCLEAR(TIMER0_BASE) = 1; count++; }
int main(void) {
    TIMER_RELOAD(TIMER0_BASE) = 25000 - 1;
    TIMER_CTRL(TIMER0_BASE) = TIMER_EN | TIMER_IRQEN;
    nvic_enable(TIMER0_IRQ);
    while (count < 10000u) __asm volatile("wfi");
    uart_init(); puts_("bench_idle "); put_dec(count); putc_('\n');
    return 0;
}
