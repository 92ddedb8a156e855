/* SysTick on the processor clock: period against the CMSDK timer, COUNTFLAG, CVR clear. */
#include "lib.h"
#include "regs.h"

static volatile uint32_t ticks, t_first, t_last;

void SysTick_Handler(void) {
    ticks++;
    if (ticks == 1) t_first = TIMER_VALUE(TIMER0_BASE);
    if (ticks == 11) { t_last = TIMER_VALUE(TIMER0_BASE); SYST_CSR = 0; }
}

int main(void) {
    uart_init();
    TIMER_RELOAD(TIMER0_BASE) = 0xFFFFFFFF;
    TIMER_CTRL(TIMER0_BASE) = TIMER_EN;
    SYST_RVR = 25000 - 1;         /* 1 ms at 25 MHz */
    SYST_CVR = 0;
    SYST_CSR = 7;                 /* enable, tickint, processor clock */
    while (ticks < 11) __asm volatile("wfi");
    uint32_t elapsed = t_first - t_last;
    info("timer ticks for 10 SysTick periods", elapsed);
    check(elapsed > 245000 && elapsed < 255000, "10 SysTick periods = 250000 timer ticks +-2%");

    SYST_RVR = 999;
    SYST_CVR = 0;
    SYST_CSR = 5;                 /* enable, no interrupt */
    uint32_t guard = 0;
    while (!(SYST_CSR & (1u << 16)) && ++guard < 100000) { }
    SYST_CSR = 4;                 /* stop it: no further wrap */
    check(guard < 100000, "COUNTFLAG sets when the counter wraps");
    (void)SYST_CSR;               /* any flag from a wrap before the stop is read here... */
    check(!(SYST_CSR & (1u << 16)), "COUNTFLAG clears on read");   /* ...and gone now */
    SYST_CVR = 77;
    check(SYST_CVR == 0, "writing CVR clears it");
    check(SYST_RVR == 999, "RVR reads back");
    finish();
}
