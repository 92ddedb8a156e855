/* WFI sleeps until the timer interrupt; board time advances; SEV makes the next WFE return. */
#include "lib.h"
#include "regs.h"

static volatile uint32_t count;
void IRQ8_Handler(void) { TIMER_INTCLEAR(TIMER0_BASE) = 1; count++; }

int main(void) {
    uart_init();
    TIMER_RELOAD(TIMER1_BASE) = 0xFFFFFFFF;
    TIMER_CTRL(TIMER1_BASE) = TIMER_EN;
    uint32_t t0 = TIMER_VALUE(TIMER1_BASE);
    TIMER_RELOAD(TIMER0_BASE) = 50000 - 1;            /* 2 ms */
    TIMER_CTRL(TIMER0_BASE) = TIMER_EN | TIMER_IRQEN;
    nvic_enable(TIMER0_IRQ);
    uint32_t wakes = 0;
    while (count < 5) { __asm volatile("wfi"); wakes++; }
    TIMER_CTRL(TIMER0_BASE) = 0;
    uint32_t elapsed = t0 - TIMER_VALUE(TIMER1_BASE);
    info("timer1 ticks across 5 interrupts", elapsed);
    check(count == 5, "five timer interrupts woke WFI");
    check(elapsed > 240000 && elapsed < 262500, "about 10 ms of board time passed");
    check(wakes >= 5 && wakes < 100, "WFI slept between interrupts");
    __asm volatile("sev");
    __asm volatile("wfe");               /* event register set: returns at once */
    check(1, "SEV then WFE returns");
    finish();
}
