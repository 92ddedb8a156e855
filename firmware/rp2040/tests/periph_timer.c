/* TIMER (datasheet 4.6): the 64-bit microsecond counter, its latched and raw reads, writes of
 * the time, the four alarms with their IRQs (ARMED, INTR write-1-to-clear, INTE, INTF, INTS),
 * alarms reached while the core sleeps in WFI (board time skips ahead), an alarm set in the
 * past (it compares the low 32 bits only, so it fires after the counter wraps: 2^32 us later),
 * PAUSE, DBGPAUSE, and the block's own reset. Run by tests/test_rp2040_periph.py.
 *
 * Timing checks allow a few microseconds of slack (interrupt latency), never exact instruction
 * counts. */
#include "lib.h"
#include "rp2040.h"

#define SLACK_US 4u                    /* alarm fires within this many us after its target */

static volatile uint32_t fired;        /* alarm IRQs taken, a bit per alarm */
static volatile uint32_t fire_time[4]; /* TIMERAWL in each handler */
static volatile uint32_t fire_count[4];
static volatile uint32_t order[8];
static volatile uint32_t norder;

static void alarm_irq(unsigned i) {
    uint32_t bit = 1u << i;
    fire_time[i] = TIMER->TIMERAWL;
    fire_count[i]++;
    if (norder < 8) order[norder++] = i;
    fired |= bit;
    if (TIMER->INTF & bit) HW_CLR(&TIMER->INTF) = bit;   /* a forced interrupt: unforce */
    TIMER->INTR = bit;                                     /* write 1 to clear */
}
void IRQ0_Handler(void) { alarm_irq(0); }
void IRQ1_Handler(void) { alarm_irq(1); }
void IRQ2_Handler(void) { alarm_irq(2); }
void IRQ3_Handler(void) { alarm_irq(3); }

/* Sleep until every bit of `mask` is in `fired`; no lost wake-up (WFI wakes on a pending
 * interrupt even with PRIMASK set). */
static void wait_fired(uint32_t mask) {
    __asm volatile("cpsid i" ::: "memory");
    while ((fired & mask) != mask) {
        __asm volatile("wfi\n cpsie i\n cpsid i" ::: "memory");
    }
    __asm volatile("cpsie i" ::: "memory");
}

static int within(uint32_t got, uint32_t want, uint32_t slack) {
    return (uint32_t)(got - want) <= slack;
}

static void reset_state(void) {
    fired = 0;
    norder = 0;
    for (int i = 0; i < 4; i++) { fire_time[i] = 0; fire_count[i] = 0; }
}

/* A busy wait that does not use TIMER: SysTick (processor clock) cycles. */
static void spin_cycles(uint32_t n) {
    SYST_RVR = 0xffffff;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_CLKSOURCE;
    uint32_t start = SYST_CVR, done = 0;
    while (done < n) {
        uint32_t now = SYST_CVR;
        done += (start - now) & 0xffffff;
        start = now;
    }
    SYST_CSR = 0;
}

static void test_counter(void) {
    check_eq(RESETS->RESET_DONE & RESET_TIMER, RESET_TIMER, "timer out of reset");
    uint32_t t0 = TIMER->TIMERAWL;
    spin_cycles(12500);                             /* 100 us at 125 MHz */
    uint32_t t1 = TIMER->TIMERAWL;
    check(t1 - t0 >= 90 && t1 - t0 <= 130, "timer counts microseconds (SysTick 12500 cycles ~ 100 us)");

    /* rate against SysTick over 2 ms: 125 cycles per us */
    SYST_RVR = 0xffffff;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_CLKSOURCE;
    uint32_t s0 = SYST_CVR;
    delay_us(2000);
    uint32_t s1 = SYST_CVR;
    SYST_CSR = 0;
    uint32_t cyc = (s0 - s1) & 0xffffff;
    check(cyc > 247500 && cyc < 252500, "timer rate 1 MHz at clk_sys 125 MHz (+-1%)");
    info("systick cycles per 2000 us", cyc);

    check_eq(TIMER->TIMELW, 0, "TIMELW reads 0");
    check_eq(TIMER->TIMEHW, 0, "TIMEHW reads 0");
}

static void test_write_and_latch(void) {
    /* write low, then high: the write of TIMEHW sets all 64 bits */
    uint32_t h_before = TIMER->TIMERAWH;
    TIMER->TIMELW = 0xffffff00u;
    uint32_t l = TIMER->TIMERAWL;
    check(TIMER->TIMERAWH == h_before && l < 0xffff0000u, "TIMELW alone does not change the time");
    TIMER->TIMEHW = 1;
    uint32_t lo = TIMER->TIMELR;
    uint32_t hi = TIMER->TIMEHR;
    check_eq(hi, 1, "TIMEHW/TIMELW set the time: high word");
    check(lo >= 0xffffff00u && lo < 0xffffff40u, "TIMEHW/TIMELW set the time: low word");
    check_eq(TIMER->TIMERAWH, 1, "TIMERAWH after the write");

    /* cross the 32-bit boundary: TIMEHR keeps what the last TIMELR read latched */
    lo = TIMER->TIMELR;                     /* latches high = 1 */
    while (TIMER->TIMERAWH != 2) { }
    check_eq(TIMER->TIMERAWH, 2, "carry into the high word at 2^32 us");
    check(TIMER->TIMERAWL < 0x100u, "low word wrapped to a small value");
    check_eq(TIMER->TIMEHR, 1, "TIMEHR latched by the TIMELR read (not the live high word)");
    (void)TIMER->TIMERAWL;                  /* raw reads do not latch */
    check_eq(TIMER->TIMEHR, 1, "TIMERAWL read does not latch TIMEHR");
    lo = TIMER->TIMELR;
    check_eq(TIMER->TIMEHR, 2, "TIMEHR after a new TIMELR read");
    check(lo < 0x200u, "TIMELR after the wrap");

    /* back near zero for the alarm tests */
    TIMER->TIMELW = 1000;
    TIMER->TIMEHW = 0;
    check(TIMER->TIMERAWH == 0 && TIMER->TIMERAWL - 1000u < 50u, "time set back to 1000 us");
}

static void test_alarms(void) {
    static const uint32_t delay[4] = {800, 200, 600, 400};   /* fire order 1, 3, 2, 0 */
    uint32_t target[4];
    reset_state();
    TIMER->INTR = 0xf;
    TIMER->INTE = 0xf;
    for (int i = 0; i < 4; i++) irq_enable(TIMER_IRQ_0 + i);
    uint32_t now = TIMER->TIMERAWL;
    for (int i = 0; i < 4; i++) {
        target[i] = now + delay[i];
        TIMER->ALARM[i] = target[i];
    }
    check_eq(TIMER->ARMED, 0xf, "ARMED: writing ALARMn arms alarm n");
    check_eq(TIMER->ALARM[2], target[2], "ALARM2 reads back its target");
    check_eq(TIMER->INTR, 0, "INTR clear before the alarms");
    wait_fired(0xf);
    for (int i = 0; i < 4; i++) {
        static const char *names[4] = {"alarm 0 fires at its target (+-4 us)", "alarm 1 fires at its target (+-4 us)",
                                       "alarm 2 fires at its target (+-4 us)", "alarm 3 fires at its target (+-4 us)"};
        check(within(fire_time[i], target[i], SLACK_US), names[i]);
        if (!within(fire_time[i], target[i], SLACK_US)) info("late by", fire_time[i] - target[i]);
    }
    check(norder == 4 && order[0] == 1 && order[1] == 3 && order[2] == 2 && order[3] == 0,
          "alarms fire in time order (1, 3, 2, 0), one IRQ each");
    check_eq(TIMER->ARMED, 0, "ARMED: a fired alarm disarms itself");
    check_eq(TIMER->INTR, 0, "INTR cleared by writing 1 in the handlers");
    check_eq(NVIC_ISPR & 0xf, 0, "no TIMER IRQ left pending");
}

static void test_disarm_and_masking(void) {
    reset_state();
    /* disarm through ARMED (write 1 to clear) */
    uint32_t now = TIMER->TIMERAWL;
    TIMER->ALARM[2] = now + 100;
    check_eq(TIMER->ARMED & 4, 4, "alarm 2 armed");
    TIMER->ARMED = 4;
    check_eq(TIMER->ARMED, 0, "writing 1 to ARMED bit 2 disarms");
    delay_us(300);
    check(fired == 0 && (TIMER->INTR & 4) == 0, "a disarmed alarm does not fire");

    /* INTE clear: the raw interrupt is latched in INTR, no IRQ */
    TIMER->INTE = 0;
    now = TIMER->TIMERAWL;
    TIMER->ALARM[1] = now + 50;
    TIMER->ALARM[0] = now + 60;
    delay_us(150);
    check_eq(TIMER->INTR, 3, "INTR latches alarms 0 and 1 with INTE clear");
    check_eq(TIMER->INTS, 0, "INTS = INTR & INTE = 0");
    check_eq(TIMER->ARMED, 0, "alarms 0 and 1 disarmed after firing");
    check(fired == 0 && (NVIC_ISPR & 3) == 0, "no IRQ while INTE is clear");

    /* write-1-to-clear: only the written bits, also through the CLR alias */
    TIMER->INTR = 0;
    check_eq(TIMER->INTR, 3, "writing 0 to INTR clears nothing");
    TIMER->INTR = 1;
    check_eq(TIMER->INTR, 2, "writing 1 to INTR bit 0 clears only bit 0");
    HW_CLR(&TIMER->INTR) = 2;
    check_eq(TIMER->INTR, 0, "INTR bit 1 cleared through the CLR alias");

    /* a latched INTR bit raises the IRQ as soon as INTE is set */
    now = TIMER->TIMERAWL;
    TIMER->ALARM[1] = now + 20;
    delay_us(60);
    check_eq(TIMER->INTR, 2, "alarm 1 latched again");
    check_eq(fired, 0, "no IRQ yet");
    TIMER->INTE = 2;
    __asm volatile("dsb\n isb" ::: "memory");
    check_eq(fire_count[1], 1, "setting INTE takes the latched interrupt at once");
    check_eq(TIMER->INTR, 0, "handler cleared it");

    /* INTF forces an interrupt without a raw one */
    reset_state();
    TIMER->INTE = 8;
    __asm volatile("cpsid i" ::: "memory");
    TIMER->INTF = 8;
    check_eq(TIMER->INTF, 8, "INTF reads back");
    check_eq(TIMER->INTS, 8, "INTS shows the forced interrupt");
    check_eq(TIMER->INTR, 0, "a forced interrupt is not in INTR");
    check_eq(NVIC_ISPR & 8, 8, "forced alarm 3 IRQ pending in the NVIC");
    __asm volatile("cpsie i\n dsb\n isb" ::: "memory");
    check_eq(fire_count[3], 1, "forced IRQ taken once");
    check_eq(TIMER->INTF, 0, "handler unforced it");
    TIMER->INTE = 0xf;
}

/* The core sleeps with nothing but an alarm pending: board time jumps to it. */
static void test_sleep_jump(void) {
    reset_state();
    uint32_t target = TIMER->TIMERAWL + 50000;          /* 50 ms */
    TIMER->ALARM[0] = target;
    wait_fired(1);
    check(within(fire_time[0], target, SLACK_US), "alarm 50 ms ahead fires on time while sleeping in WFI");
    if (!within(fire_time[0], target, SLACK_US)) info("late by", fire_time[0] - target);

    reset_state();
    uint32_t now = TIMER->TIMERAWL;
    TIMER->ALARM[2] = now + 3000000;                    /* 3 s */
    TIMER->ALARM[3] = now + 1000000;                    /* 1 s */
    wait_fired(8);
    check(within(fire_time[3], now + 1000000, SLACK_US) && fired == 8,
          "1 s alarm fires first after a jump, 3 s alarm still armed");
    check_eq(TIMER->ARMED, 4, "ARMED after the first jump");
    wait_fired(4);
    check(within(fire_time[2], now + 3000000, SLACK_US), "3 s alarm fires on time after a second jump");
}

/* ALARM compares the low 32 bits for equality: a target already past fires only when the
 * counter comes round again, 2^32 us (~71.6 min) later. */
static void test_past_alarm(void) {
    reset_state();
    uint32_t h0 = TIMER->TIMERAWH;
    uint32_t target = TIMER->TIMERAWL - 10;
    TIMER->ALARM[1] = target;
    delay_us(1000);
    check(fired == 0 && (TIMER->ARMED & 2) && !(TIMER->INTR & 2),
          "alarm 10 us in the past does not fire at once (stays armed)");
    wait_fired(2);
    uint32_t h1 = TIMER->TIMERAWH;
    check(within(fire_time[1], target, SLACK_US), "past alarm fires when the low word comes round");
    check_eq(h1, h0 + 1, "... 2^32 us later (high word + 1)");
    info("high word after the past alarm", h1);
}

static void test_pause(void) {
    reset_state();
    check_eq(TIMER->DBGPAUSE & 6, 6, "DBGPAUSE reset: pause on debug of core 0 and 1");
    TIMER->DBGPAUSE = 0;
    check_eq(TIMER->DBGPAUSE & 6, 0, "DBGPAUSE writable");
    TIMER->DBGPAUSE = TIMER_DBGPAUSE_DBG0 | TIMER_DBGPAUSE_DBG1;

    check_eq(TIMER->PAUSE, 0, "PAUSE reset 0");
    TIMER->PAUSE = 1;
    uint32_t t0 = TIMER->TIMERAWL;
    TIMER->ALARM[0] = t0 + 5;
    spin_cycles(125 * 200);                             /* 200 us of processor time */
    uint32_t t1 = TIMER->TIMERAWL;
    check_eq(TIMER->PAUSE, 1, "PAUSE reads back");
    check_eq(t1, t0, "paused counter does not move");
    check(fired == 0 && (TIMER->ARMED & 1), "no alarm while paused");
    TIMER->PAUSE = 0;
    uint32_t t2 = TIMER->TIMERAWL;
    check(t2 - t0 < 3, "counter resumes from where it stopped");
    wait_fired(1);
    check(within(fire_time[0], t0 + 5, SLACK_US), "alarm fires 5 us after resuming");
}

/* Putting TIMER into reset restores its power-on state: counter 0, alarms disarmed. */
static void test_block_reset(void) {
    reset_state();
    TIMER->ALARM[3] = TIMER->TIMERAWL + 100;
    TIMER->INTE = 0xf;
    HW_SET(&RESETS->RESET) = RESET_TIMER;
    check_eq(RESETS->RESET_DONE & RESET_TIMER, 0, "RESET_DONE clear while TIMER is held in reset");
    unreset(RESET_TIMER);
    uint32_t hi = TIMER->TIMERAWH, lo = TIMER->TIMERAWL;
    check(hi == 0 && lo < 100, "counter restarts from 0 after a block reset");
    info("TIMERAWL just after the block reset", lo);
    check_eq(TIMER->ARMED, 0, "ARMED cleared by the block reset");
    check_eq(TIMER->INTE, 0, "INTE cleared by the block reset");
    delay_us(300);
    check_eq(fired, 0, "an alarm armed before the reset does not fire");
}

int main(void) {
    puts_("periph_timer\n");
    unreset(RESET_TIMER);
    test_counter();
    test_write_and_latch();
    test_alarms();
    test_disarm_and_masking();
    test_sleep_jump();
    test_past_alarm();
    test_pause();
    test_block_reset();
    finish();
}
