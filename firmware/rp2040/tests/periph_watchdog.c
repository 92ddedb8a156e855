/* WATCHDOG (datasheet 4.7, erratum RP2040-E1): LOAD counting down twice per microsecond tick,
 * CTRL.TIME read-back, ENABLE freezing/resuming the count, reloading (kicking), TICK, and two
 * real chip resets: a timeout (REASON = TIMER) and CTRL.TRIGGER (REASON = FORCE), both keeping
 * SCRATCH0-7. The program boots three times; SCRATCH0 tells each boot which stage it is in.
 * PASS/FAIL counts of earlier boots are carried in .noinit RAM (kept across the resets) and
 * added to the final DONE line. Run by tests/test_rp2040_periph.py, which also checks the
 * RESET events and their board times.
 *
 * The boot ROM's SCRATCH4 = 0xb007c0d3 resume path is tested by tests/test_rp2040_rom.py
 * (rom_calls.c); here SCRATCH4 never holds that magic. */
#include "lib.h"
#include "rp2040.h"

#define STAGE_TIMEOUT 0x57a6e001u      /* SCRATCH0 before the timeout reset */
#define STAGE_FORCE   0x57a6e002u      /* SCRATCH0 before the forced reset */
#define CARRY_MAGIC   0xca77e5a1u
#define TIMEOUT_US    5000u            /* watchdog timeout for the real reset */

struct carry { uint32_t magic, passed, failed, boots; };
__attribute__((section(".noinit"))) static volatile struct carry carry;

/* Written by the host test before the first instruction: magic HOST_MAGIC and flags. */
#define HOST_MAGIC 0x4057c0deu
#define HOST_SLEEP 1u                  /* wait for the timeout in WFI instead of a busy loop */
struct host_cfg { uint32_t magic, flags; };
__attribute__((section(".noinit"), used)) volatile struct host_cfg host_cfg;

static uint32_t pattern(unsigned i, uint32_t stage) { return stage ^ (0x01010101u * (i + 1)) ^ (i << 28); }

static void fill_scratch(uint32_t stage) {
    WATCHDOG->SCRATCH[0] = stage;
    for (unsigned i = 1; i < 8; i++) WATCHDOG->SCRATCH[i] = pattern(i, stage);
}

static void check_scratch(uint32_t stage, const char *name) {
    int ok = WATCHDOG->SCRATCH[0] == stage;
    for (unsigned i = 1; i < 8; i++) ok &= WATCHDOG->SCRATCH[i] == pattern(i, stage);
    check(ok, name);
    if (!ok) for (unsigned i = 0; i < 8; i++) info_hex("scratch", WATCHDOG->SCRATCH[i]);
}

static void save_counts(void) {
    carry.passed += passed;
    carry.failed += failed;
    passed = failed = 0;
}

static uint32_t wd_time(void) { return WATCHDOG->CTRL & WATCHDOG_CTRL_TIME_MASK; }

/* Stage 0, power-on: the counter, then a real timeout. */
static void first_boot(void) {
    check_eq(WATCHDOG->REASON, 0, "REASON 0 after power-on");
    int zero = 1;
    for (unsigned i = 0; i < 8; i++) zero &= WATCHDOG->SCRATCH[i] == 0;
    check(zero, "SCRATCH0-7 read 0 after power-on");
    check_eq(WATCHDOG->CTRL & WATCHDOG_CTRL_ENABLE, 0, "watchdog disabled after power-on");

    /* 1 us tick from clk_ref = 12 MHz, as the SDK sets it */
    WATCHDOG->TICK = WATCHDOG_TICK_ENABLE | 12;
    check_eq(WATCHDOG->TICK & (WATCHDOG_TICK_ENABLE | WATCHDOG_TICK_CYCLES_MASK),
             WATCHDOG_TICK_ENABLE | 12, "TICK reads back ENABLE and CYCLES");
    check(WATCHDOG->TICK & WATCHDOG_TICK_RUNNING, "TICK RUNNING while enabled");

    /* LOAD while disabled: CTRL.TIME shows it and does not move */
    WATCHDOG->LOAD = 0x100000;
    check_eq(wd_time(), 0x100000, "CTRL.TIME reads the loaded value");
    delay_us(500);
    check_eq(wd_time(), 0x100000, "CTRL.TIME does not count while disabled");

    /* enabled: down 2 per us (RP2040-E1) */
    HW_SET(&WATCHDOG->CTRL) = WATCHDOG_CTRL_ENABLE;
    uint32_t t0 = TIMER->TIMERAWL;
    uint32_t c0 = wd_time();
    while (TIMER->TIMERAWL - t0 < 1000) { }
    uint32_t c1 = wd_time();
    uint32_t us = TIMER->TIMERAWL - t0;
    uint32_t down = c0 - c1;
    check(down + 8 >= 2 * 1000 && down <= 2 * us + 8, "CTRL.TIME counts down twice per us");
    info("watchdog ticks in 1000 us", down);

    /* disable freezes the count, enable continues from there */
    HW_CLR(&WATCHDOG->CTRL) = WATCHDOG_CTRL_ENABLE;
    uint32_t f0 = wd_time();
    delay_us(300);
    check_eq(wd_time(), f0, "clearing ENABLE freezes CTRL.TIME");
    HW_SET(&WATCHDOG->CTRL) = WATCHDOG_CTRL_ENABLE;
    delay_us(100);
    uint32_t f1 = wd_time();
    check(f0 - f1 >= 190 && f0 - f1 <= 220, "enabled again: counts on from the frozen value");

    /* kicking: reloading every 400 us with a 1 ms timeout keeps the chip alive for 10 ms */
    for (int i = 0; i < 25; i++) {
        WATCHDOG->LOAD = 2 * 1000;
        delay_us(400);
    }
    check(wd_time() > 2 * 500, "reloading LOAD (kicking) keeps the watchdog from expiring");
    HW_CLR(&WATCHDOG->CTRL) = WATCHDOG_CTRL_ENABLE;

    /* the real thing: reset everything but the oscillators, as the SDK's watchdog_enable does */
    PSM->WDSEL = PSM_ALL & ~(PSM_ROSC | PSM_XOSC);
    check_eq(PSM->WDSEL, PSM_ALL & ~(PSM_ROSC | PSM_XOSC), "PSM WDSEL reads back");
    fill_scratch(STAGE_TIMEOUT);
    save_counts();
    puts_("WATCHDOG TIMEOUT ARMED\n");
    WATCHDOG->LOAD = 2 * TIMEOUT_US;
    HW_SET(&WATCHDOG->CTRL) = WATCHDOG_CTRL_ENABLE;
    if (host_cfg.magic == HOST_MAGIC && (host_cfg.flags & HOST_SLEEP)) {
        for (;;) __asm volatile("wfi");        /* only the watchdog can end this sleep */
    }
    for (;;) { }
}

/* Stage 1: back from the timeout; now a forced reset. */
static void after_timeout(void) {
    puts_("BACK FROM TIMEOUT\n");
    check_eq(WATCHDOG->REASON, WATCHDOG_REASON_TIMER, "REASON = TIMER after a timeout reset");
    check_scratch(STAGE_TIMEOUT, "SCRATCH0-7 kept across the timeout reset");
    check_eq(WATCHDOG->CTRL & WATCHDOG_CTRL_ENABLE, 0, "watchdog disabled after its reset");
    check_eq(RESETS->RESET_DONE & RESET_IO_BANK0, 0, "RESETS back to reset state (IO_BANK0 held)");
    check(TIMER->TIMERAWH == 0 && TIMER->TIMERAWL < 100000u, "TIMER restarted from 0 by the chip reset");
    fill_scratch(STAGE_FORCE);
    save_counts();
    puts_("WATCHDOG TRIGGER\n");
    WATCHDOG->CTRL = WATCHDOG_CTRL_TRIGGER;
    for (;;) { }
}

/* Stage 2: back from the forced reset. */
static void after_force(void) {
    puts_("BACK FROM TRIGGER\n");
    check_eq(WATCHDOG->REASON, WATCHDOG_REASON_FORCE, "REASON = FORCE after CTRL.TRIGGER");
    check_scratch(STAGE_FORCE, "SCRATCH0-7 kept across the forced reset");
    check_eq(WATCHDOG->CTRL & (WATCHDOG_CTRL_ENABLE | WATCHDOG_CTRL_TRIGGER), 0, "CTRL.TRIGGER self-clears");
    check_eq(carry.boots, 3, "three boots");
    /* a program that has passed every stage leaves SCRATCH0 clear for the next power-on */
    for (unsigned i = 0; i < 8; i++) WATCHDOG->SCRATCH[i] = 0;
}

int main(void) {
    if (WATCHDOG->REASON == 0 || carry.magic != CARRY_MAGIC) {
        carry.magic = CARRY_MAGIC;
        carry.passed = carry.failed = carry.boots = 0;
    }
    carry.boots++;
    puts_("periph_watchdog boot ");
    put_dec(carry.boots);
    putc_('\n');
    unreset(RESET_TIMER);
    uint32_t stage = WATCHDOG->SCRATCH[0];
    if (WATCHDOG->REASON == 0) first_boot();
    else if (stage == STAGE_TIMEOUT) after_timeout();
    else if (stage == STAGE_FORCE) after_force();
    else check(0, "unexpected SCRATCH0 after a watchdog reset");
    passed += carry.passed;
    failed += carry.failed;
    finish();
}
