/* Mostly idle: timer0 interrupt at 1 kHz and WFI in between, 10,000 interrupts = 10 s of board
 * time. */
#include "lib.h"
#include "regs.h"

#define IRQS 10000u
static volatile uint32_t count;
void IRQ8_Handler(void) { TIMER_INTCLEAR(TIMER0_BASE) = 1; count++; }

int main(void) {
    uint32_t wakes = 0;
    TIMER_RELOAD(TIMER0_BASE) = SYSCLK_HZ / 1000 - 1;
    TIMER_VALUE(TIMER0_BASE) = SYSCLK_HZ / 1000 - 1;
    TIMER_CTRL(TIMER0_BASE) = TIMER_EN | TIMER_IRQEN;
    nvic_enable(TIMER0_IRQ);
    while (count < IRQS) { wfi(); wakes++; }
    TIMER_CTRL(TIMER0_BASE) = 0;
    uart_init();
    uart_puts("bench_idle irqs "); put_dec(count); uart_puts(" wakes "); put_dec(wakes); uart_putc('\n');
    return 0;
}
