/* The system blocks (datasheet 2.1.2, 2.13-2.18, 4.8): RESETS (RESET_DONE follows RESET, a
 * block reset restores power-on values), PSM (FRCE_OFF of core 1 reflected in DONE), the
 * XOR/SET/CLR atomic aliases on several APB blocks, byte and half-word stores replicated
 * across the word, the clock bring-up the SDK does at boot (XOSC STABLE, PLL LOCK, glitchless
 * mux SELECTED, frequency counter FC0), and the RTC (load, running, leap day, RTC_0 latching
 * RTC_1, match alarm IRQ, stop). Run by tests/test_rp2040_periph.py. */
#include "lib.h"
#include "rp2040.h"

/* ---- sleeping on TIMER alarm 0 -------------------------------------------------------------- */
static volatile uint32_t alarm_fired;
void IRQ0_Handler(void) {
    TIMER->INTR = 1;
    alarm_fired = 1;
}

static void sleep_us(uint32_t us) {
    alarm_fired = 0;
    TIMER->INTE |= 1;
    irq_enable(TIMER_IRQ_0);
    TIMER->ALARM[0] = TIMER->TIMERAWL + us;
    __asm volatile("cpsid i" ::: "memory");
    while (!alarm_fired) __asm volatile("wfi\n cpsie i\n cpsid i" ::: "memory");
    __asm volatile("cpsie i" ::: "memory");
}

/* ---- RESETS and PSM ------------------------------------------------------------------------- */
static void test_resets(void) {
    check_eq(RESETS->RESET_DONE, ~RESETS->RESET & RESET_ALL, "RESET_DONE = ~RESET at boot");
    check_eq(RESETS->RESET & (RESET_RTC | RESET_PWM | RESET_SPI0), RESET_RTC | RESET_PWM | RESET_SPI0,
             "blocks held in reset at boot");
    unreset(RESET_TIMER | RESET_PADS_BANK0 | RESET_IO_BANK0);
    HW_CLR(&RESETS->RESET) = RESET_PWM;
    check_eq(RESETS->RESET & RESET_PWM, 0, "CLR alias on RESET");
    check_eq(RESETS->RESET_DONE & RESET_PWM, RESET_PWM, "RESET_DONE set when released");
    HW_SET(&RESETS->RESET) = RESET_PWM;
    check_eq(RESETS->RESET_DONE & RESET_PWM, 0, "RESET_DONE clear when held again");
    HW_XOR(&RESETS->RESET) = RESET_PWM | RESET_SPI0;
    check_eq(RESETS->RESET & (RESET_PWM | RESET_SPI0), 0, "XOR alias on RESET");
    check_eq(RESETS->RESET_DONE, ~RESETS->RESET & RESET_ALL, "RESET_DONE = ~RESET after alias writes");
    HW_SET(&RESETS->RESET) = RESET_PWM | RESET_SPI0;
    RESETS->WDSEL = RESET_PWM | RESET_TIMER;
    check_eq(RESETS->WDSEL, RESET_PWM | RESET_TIMER, "RESETS WDSEL reads back");
    RESETS->WDSEL = 0;

    /* a block put into reset returns to its power-on values */
    PADS_BANK0->GPIO[7] = PADS_OD | PADS_PUE;
    check_eq(PADS_BANK0->GPIO[7], PADS_OD | PADS_PUE, "pad 7 written");
    HW_SET(&RESETS->RESET) = RESET_PADS_BANK0;
    unreset(RESET_PADS_BANK0);
    check_eq(PADS_BANK0->GPIO[7], 0x56, "PADS_BANK0 reset restores pad 7 (0x56)");

    check_eq(PSM->DONE, PSM_ALL, "PSM DONE: every domain powered");
    HW_SET(&PSM->FRCE_OFF) = PSM_PROC1;                /* what the SDK does to reset core 1 */
    check_eq(PSM->FRCE_OFF & PSM_PROC1, PSM_PROC1, "PSM FRCE_OFF reads back");
    check_eq(PSM->DONE & PSM_PROC1, 0, "core 1 forced off: DONE bit clear");
    HW_CLR(&PSM->FRCE_OFF) = PSM_PROC1;
    check_eq(PSM->DONE, PSM_ALL, "core 1 back: DONE all set");
}

/* ---- atomic aliases and narrow stores ---------------------------------------------------------- */
static void test_aliases(void) {
    io_rw_32 *s0 = &WATCHDOG->SCRATCH[0];
    *s0 = 0x00ff00ffu;
    HW_XOR(s0) = 0x0f0f0f0fu;
    check_eq(*s0, 0x0ff00ff0u, "WATCHDOG SCRATCH0: XOR alias");
    HW_SET(s0) = 0xf0000001u;
    check_eq(*s0, 0xfff00ff1u, "WATCHDOG SCRATCH0: SET alias");
    HW_CLR(s0) = 0x0ff00000u;
    check_eq(*s0, 0xf0000ff1u, "WATCHDOG SCRATCH0: CLR alias");

    PADS_BANK0->GPIO[8] = 0x56;
    HW_CLR(&PADS_BANK0->GPIO[8]) = PADS_PDE;
    HW_SET(&PADS_BANK0->GPIO[8]) = PADS_PUE;
    HW_XOR(&PADS_BANK0->GPIO[8]) = PADS_SLEWFAST | PADS_SCHMITT;
    check_eq(PADS_BANK0->GPIO[8], 0x59, "PADS_BANK0 GPIO8: CLR/SET/XOR aliases");

    TIMER->INTE = 0;
    HW_SET(&TIMER->INTE) = 0x6;
    HW_XOR(&TIMER->INTE) = 0x3;
    check_eq(TIMER->INTE, 0x5, "TIMER INTE: SET then XOR alias");
    HW_CLR(&TIMER->INTE) = 0xf;
    check_eq(TIMER->INTE, 0, "TIMER INTE: CLR alias");

    io_rw_32 *div = &CLOCKS->CLK[CLK_GPOUT0].DIV;
    *div = 0x00000100u;
    HW_SET(div) = 0x00030000u;
    HW_XOR(div) = 0x00000180u;
    check_eq(*div, 0x00030080u, "CLOCKS GPOUT0 DIV: SET and XOR aliases");
    *div = 0x100;

    PSM->WDSEL = 0;
    HW_SET(&PSM->WDSEL) = PSM_PROC0 | PSM_SIO;
    HW_CLR(&PSM->WDSEL) = PSM_SIO;
    check_eq(PSM->WDSEL, PSM_PROC0, "PSM WDSEL: SET and CLR aliases");
    PSM->WDSEL = 0;

    /* byte and half-word stores are replicated across the 32-bit register */
    io_rw_32 *s1 = &WATCHDOG->SCRATCH[1];
    *s1 = 0;
    *((volatile uint8_t *)s1 + 2) = 0xab;
    check_eq(*s1, 0xababababu, "byte store replicated to all 4 lanes");
    *((volatile uint16_t *)s1 + 1) = 0x1234;
    check_eq(*s1, 0x12341234u, "half-word store replicated to both halves");
    *s1 = 0x11223344u;
    check_eq(*((volatile uint8_t *)s1 + 1), 0x33, "byte load picks its lane");
    check_eq(*((volatile uint16_t *)s1 + 1), 0x1122, "half-word load picks its lane");
    *s1 = 1;
    *(volatile uint8_t *)((uintptr_t)s1 + SET_ALIAS) = 0x80;
    check_eq(*s1, 0x80808081u, "byte store through the SET alias sets the replicated bits");
    *s0 = 0; *s1 = 0;
}

/* ---- clocks: the SDK's boot sequence -------------------------------------------------------------- */
static uint32_t fc0_bad_status;         /* sources whose count did not end DONE + PASS */

static uint32_t fc0_khz(uint32_t src, uint32_t *frac) {
    CLOCKS->FC0_REF_KHZ = 12000;
    CLOCKS->FC0_INTERVAL = 10;
    CLOCKS->FC0_MIN_KHZ = 0;
    CLOCKS->FC0_MAX_KHZ = 0x1ffffff;
    CLOCKS->FC0_SRC = src;
    while (CLOCKS->FC0_STATUS & FC0_STATUS_RUNNING) { }
    if ((CLOCKS->FC0_STATUS & (FC0_STATUS_DONE | FC0_STATUS_PASS)) != (FC0_STATUS_DONE | FC0_STATUS_PASS))
        fc0_bad_status |= 1u << src;
    uint32_t r = CLOCKS->FC0_RESULT;
    if (frac) *frac = r & 31;
    return r >> FC0_RESULT_KHZ_SHIFT;
}

static void pll_init(pll_hw_t *pll, uint32_t reset_bit, uint32_t fbdiv, uint32_t pd1, uint32_t pd2,
                     const char *locked_name) {
    HW_SET(&RESETS->RESET) = reset_bit;
    unreset(reset_bit);
    check_eq(pll->CS & PLL_CS_LOCK, 0, "PLL not locked after reset (powered down)");
    pll->CS = 1;                                             /* REFDIV 1 */
    pll->FBDIV_INT = fbdiv;
    HW_CLR(&pll->PWR) = PLL_PWR_PD | PLL_PWR_VCOPD;
    uint32_t n = 0;
    while (!(pll->CS & PLL_CS_LOCK) && ++n < 100000) { }
    check(pll->CS & PLL_CS_LOCK, locked_name);
    pll->PRIM = pd1 << PLL_PRIM_POSTDIV1_SHIFT | pd2 << PLL_PRIM_POSTDIV2_SHIFT;
    HW_CLR(&pll->PWR) = PLL_PWR_POSTDIVPD;
}

static void test_clocks(void) {
    check_eq(CLOCKS->CLK[CLK_REF].SELECTED, 1u << CLK_REF_SRC_ROSC, "clk_ref on ROSC after reset");
    check_eq(CLOCKS->CLK[CLK_SYS].SELECTED, 1u << CLK_SYS_SRC_REF, "clk_sys on clk_ref after reset");
    check_eq(XOSC->STATUS & XOSC_STATUS_STABLE, 0, "XOSC not stable before it is enabled");
    XOSC->CTRL = XOSC_CTRL_FREQ_1_15MHZ;
    XOSC->STARTUP = 47;
    HW_SET(&XOSC->CTRL) = XOSC_CTRL_ENABLE_VALUE;
    uint32_t n = 0;
    while (!(XOSC->STATUS & XOSC_STATUS_STABLE) && ++n < 100000) { }
    check(XOSC->STATUS & XOSC_STATUS_STABLE, "XOSC STABLE after enable");
    check(XOSC->STATUS & (1u << 12), "XOSC STATUS.ENABLED");

    CLOCKS->CLK[CLK_REF].CTRL = CLK_REF_SRC_XOSC;
    while (CLOCKS->CLK[CLK_REF].SELECTED != 1u << CLK_REF_SRC_XOSC && ++n < 200000) { }
    check_eq(CLOCKS->CLK[CLK_REF].SELECTED, 1u << CLK_REF_SRC_XOSC, "clk_ref SELECTED follows SRC = XOSC");

    pll_init(PLL_SYS, RESET_PLL_SYS, 125, 6, 2, "PLL_SYS LOCK (12 MHz x 125 / 6 / 2)");
    pll_init(PLL_USB, RESET_PLL_USB, 100, 5, 5, "PLL_USB LOCK (12 MHz x 100 / 5 / 5)");

    CLOCKS->CLK[CLK_SYS].CTRL = CLK_SYS_AUX_PLL_SYS << CLK_CTRL_AUXSRC_SHIFT;
    CLOCKS->CLK[CLK_SYS].DIV = 1u << CLK_DIV_INT_SHIFT;
    HW_SET(&CLOCKS->CLK[CLK_SYS].CTRL) = CLK_SYS_SRC_AUX;
    while (CLOCKS->CLK[CLK_SYS].SELECTED != 1u << CLK_SYS_SRC_AUX && ++n < 300000) { }
    check_eq(CLOCKS->CLK[CLK_SYS].SELECTED, 1u << CLK_SYS_SRC_AUX, "clk_sys SELECTED follows SRC = aux (PLL_SYS)");
    CLOCKS->CLK[CLK_PERI].CTRL = CLK_CTRL_ENABLE | CLK_PERI_AUX_SYS << CLK_CTRL_AUXSRC_SHIFT;
    CLOCKS->CLK[CLK_USB].DIV = 1u << CLK_DIV_INT_SHIFT;
    CLOCKS->CLK[CLK_USB].CTRL = CLK_CTRL_ENABLE | CLK_USB_AUX_PLL_USB << CLK_CTRL_AUXSRC_SHIFT;
    CLOCKS->CLK[CLK_RTC].DIV = 1024u << CLK_DIV_INT_SHIFT;
    CLOCKS->CLK[CLK_RTC].CTRL = CLK_CTRL_ENABLE | CLK_USB_AUX_PLL_USB << CLK_CTRL_AUXSRC_SHIFT;

    uint32_t frac;
    check_eq(fc0_khz(FC0_SRC_XOSC, 0), 12000, "FC0 xosc = 12000 kHz");
    check_eq(fc0_khz(FC0_SRC_PLL_SYS, 0), 125000, "FC0 pll_sys = 125000 kHz");
    check_eq(fc0_khz(FC0_SRC_PLL_USB, 0), 48000, "FC0 pll_usb = 48000 kHz");
    check_eq(fc0_khz(FC0_SRC_CLK_REF, 0), 12000, "FC0 clk_ref = 12000 kHz");
    check_eq(fc0_khz(FC0_SRC_CLK_SYS, 0), 125000, "FC0 clk_sys = 125000 kHz");
    check_eq(fc0_khz(FC0_SRC_CLK_PERI, 0), 125000, "FC0 clk_peri = 125000 kHz");
    check_eq(fc0_khz(FC0_SRC_CLK_USB, 0), 48000, "FC0 clk_usb = 48000 kHz");
    uint32_t rtc_khz = fc0_khz(FC0_SRC_CLK_RTC, &frac);
    check(rtc_khz == 46 && frac == 28, "FC0 clk_rtc = 46.875 kHz (48 MHz / 1024)");
    check_eq(fc0_bad_status, 0, "FC0_STATUS DONE and PASS for every source (bit = FC0_SRC)");
    /* limits: a count outside MIN..MAX fails */
    CLOCKS->FC0_MIN_KHZ = 130000;
    CLOCKS->FC0_SRC = FC0_SRC_CLK_SYS;
    while (CLOCKS->FC0_STATUS & FC0_STATUS_RUNNING) { }
    check_eq(CLOCKS->FC0_STATUS & (FC0_STATUS_DONE | FC0_STATUS_PASS), FC0_STATUS_DONE,
             "FC0 below FC0_MIN_KHZ: DONE without PASS");
    CLOCKS->FC0_MIN_KHZ = 0;

    HW_SET(&PLL_USB->PWR) = PLL_PWR_VCOPD;
    check_eq(PLL_USB->CS & PLL_CS_LOCK, 0, "PLL_USB loses LOCK when its VCO is powered down");
    HW_CLR(&PLL_USB->PWR) = PLL_PWR_VCOPD;
    check(PLL_USB->CS & PLL_CS_LOCK, "PLL_USB locks again");
}

/* ---- RTC ------------------------------------------------------------------------------------------ */
static volatile uint32_t rtc_irqs, rtc_irq_time0, rtc_irq_date, rtc_irq_us;
void IRQ25_Handler(void) {                                  /* RTC_IRQ */
    rtc_irq_us = TIMER->TIMERAWL;
    rtc_irq_time0 = RTC->RTC_0;
    rtc_irq_date = RTC->RTC_1;
    rtc_irqs++;
    HW_CLR(&RTC->IRQ_SETUP_0) = RTC_IRQ0_MATCH_ENA;         /* the match lasts a second: stop it */
}

static void rtc_set(uint32_t date, uint32_t time) {
    RTC->CTRL = 0;
    while (RTC->CTRL & RTC_CTRL_ACTIVE) { }
    RTC->SETUP_0 = date;
    RTC->SETUP_1 = time;
    RTC->CTRL = RTC_CTRL_LOAD;
    RTC->CTRL = RTC_CTRL_ENABLE;
    while (!(RTC->CTRL & RTC_CTRL_ACTIVE)) { }
}

static void test_rtc(void) {
    unreset(RESET_RTC);
    RTC->CLKDIV_M1 = RTC_CLK_HZ - 1;
    check_eq(RTC->CLKDIV_M1, RTC_CLK_HZ - 1, "RTC CLKDIV_M1 reads back");
    check_eq(RTC->CTRL & RTC_CTRL_ACTIVE, 0, "RTC not active after reset");

    /* 2024-02-28 (Wednesday = 3) 23:59:58; alarm at 00:00:01: 3 s, across the leap day */
    rtc_set(RTC_DATE(2024, 2, 28), RTC_TIME(3, 23, 59, 58));
    uint32_t t_start = TIMER->TIMERAWL;
    uint32_t t0 = RTC->RTC_0;
    check_eq(t0, RTC_TIME(3, 23, 59, 58), "RTC_0 reads the loaded time");
    check_eq(RTC->RTC_1, RTC_DATE(2024, 2, 28), "RTC_1 reads the loaded date");
    RTC->IRQ_SETUP_0 = 0;
    RTC->IRQ_SETUP_1 = RTC_IRQ1_HOUR_ENA | RTC_IRQ1_MIN_ENA | RTC_IRQ1_SEC_ENA | RTC_TIME(0, 0, 0, 1);
    RTC->INTE = 1;
    irq_enable(RTC_IRQ);
    HW_SET(&RTC->IRQ_SETUP_0) = RTC_IRQ0_MATCH_ENA;
    check_eq(RTC->IRQ_SETUP_0 & RTC_IRQ0_MATCH_ACTIVE, RTC_IRQ0_MATCH_ACTIVE, "MATCH_ACTIVE once enabled");
    check_eq(RTC->INTR, 0, "no match yet");
    __asm volatile("cpsid i" ::: "memory");
    while (!rtc_irqs) __asm volatile("wfi\n cpsie i\n cpsid i" ::: "memory");
    __asm volatile("cpsie i" ::: "memory");
    check_eq(rtc_irq_time0, RTC_TIME(4, 0, 0, 1), "alarm IRQ at 00:00:01, Thursday");
    check_eq(rtc_irq_date, RTC_DATE(2024, 2, 29), "leap day 2024-02-29");
    uint32_t us = rtc_irq_us - t_start;
    check(us >= 2999000 && us <= 3001000, "alarm 3 s after the load (+-1 ms, while sleeping)");
    info("us from load to RTC alarm", us);
    check_eq(rtc_irqs, 1, "one RTC IRQ");
    check_eq(RTC->INTS, 0, "INTS clear once MATCH_ENA is cleared");

    /* 2023 is no leap year */
    rtc_set(RTC_DATE(2023, 2, 28), RTC_TIME(2, 23, 59, 59));
    sleep_us(1000500);
    uint32_t tm = RTC->RTC_0;
    check_eq(RTC->RTC_1, RTC_DATE(2023, 3, 1), "2023-02-28 + 1 s = 2023-03-01");
    check_eq(tm, RTC_TIME(3, 0, 0, 0), "midnight, day of week + 1");

    /* RTC_0 latches RTC_1: a date read after the time stays consistent across midnight */
    rtc_set(RTC_DATE(2024, 12, 31), RTC_TIME(2, 23, 59, 59));
    sleep_us(500000);
    tm = RTC->RTC_0;
    sleep_us(1000000);                              /* now past midnight */
    uint32_t dt = RTC->RTC_1;
    check(tm == RTC_TIME(2, 23, 59, 59) && dt == RTC_DATE(2024, 12, 31),
          "RTC_1 holds the date latched by the RTC_0 read");
    tm = RTC->RTC_0;
    dt = RTC->RTC_1;
    check(tm == RTC_TIME(3, 0, 0, 0) && dt == RTC_DATE(2025, 1, 1), "new year after the next RTC_0 read");

    /* stopped: the time does not move */
    RTC->CTRL = 0;
    check_eq(RTC->CTRL & RTC_CTRL_ACTIVE, 0, "ACTIVE clears with ENABLE");
    uint32_t a = RTC->RTC_0;
    sleep_us(2000000);
    check_eq(RTC->RTC_0, a, "stopped RTC keeps its time");
}

int main(void) {
    puts_("periph_blocks\n");
    test_resets();
    test_aliases();
    test_clocks();
    test_rtc();
    finish();
}
