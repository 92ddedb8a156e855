/* WFI sleeps until the timer0 interrupt (2 ms period); after 5 interrupts ~10 ms of board time
 * has passed on timer1. SEV sets the event register, so the next WFE returns at once (checked
 * against a timer0 interrupt used as a watchdog: it must not be what wakes WFE). */
#include "lib.h"
#include "regs.h"

static volatile uint32_t count;
void IRQ8_Handler(void) { TIMER_INTCLEAR(TIMER0_BASE) = 1; count++; }

int main(void) {
    uart_init();
    timer_free_run(TIMER1_BASE);
    uint32_t t0 = TIMER_VALUE(TIMER1_BASE);
    TIMER_RELOAD(TIMER0_BASE) = 50000 - 1;            /* 2 ms at 25 MHz */
    TIMER_VALUE(TIMER0_BASE) = 50000 - 1;
    TIMER_CTRL(TIMER0_BASE) = TIMER_EN | TIMER_IRQEN;
    nvic_enable(TIMER0_IRQ);
    uint32_t wakes = 0;
    while (count < 5 && wakes < 1000) { wfi(); wakes++; }
    uint32_t t1 = TIMER_VALUE(TIMER1_BASE), since_reload = (50000 - 1) - TIMER_VALUE(TIMER0_BASE);
    TIMER_CTRL(TIMER0_BASE) = 0;
    /* Timer1 is read some time after the 5th interrupt; timer0's own count says how long
     * after (tiny on an emulator, up to ~1 ms on QEMU, whose timers follow the host). */
    uint32_t raw = t0 - t1, elapsed = raw - since_reload;
    info("timer1 ticks from start to after the 5th interrupt", raw);
    info("the same, less timer0 ticks since its last reload", elapsed);
    info("wfi wake-ups", wakes);
    check_eq(count, 5, "five timer interrupts woke WFI");
    check(elapsed >= 245000 && elapsed <= 255000, "10 ms of board time passed (250000 ticks +-2%)");
    check(wakes >= 5 && wakes < 20, "WFI slept between interrupts");

    /* SEV then WFE: returns without waiting for the 2 ms watchdog interrupt. */
    TIMER_INTCLEAR(TIMER0_BASE) = 1;
    NVIC_ICPR = 1u << TIMER0_IRQ;
    TIMER_VALUE(TIMER0_BASE) = 50000 - 1;
    TIMER_CTRL(TIMER0_BASE) = TIMER_EN | TIMER_IRQEN;
    uint32_t before = count;
    __asm volatile("sev" ::: "memory");
    __asm volatile("wfe" ::: "memory");               /* event register set: returns at once */
    uint32_t after = count;
    TIMER_CTRL(TIMER0_BASE) = 0;
    check_eq(after, before, "SEV then WFE returns at once");
    finish();
}
