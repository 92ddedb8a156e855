/* Tiny test library: see lib.h. */
#include "lib.h"
#include "rp2040.h"
#include <stddef.h>

void putc_(char c) { semihost(0x03, &c); }

void puts_(const char *s) { semihost(0x04, s); }

/* output of the shared check library (common/check.c) */
void out_putc(char c) { putc_(c); }
void out_puts(const char *s) { puts_(s); }

uint64_t time_us(void) {
    uint32_t hi, lo;
    do {
        hi = TIMER->TIMERAWH;
        lo = TIMER->TIMERAWL;
    } while (hi != TIMER->TIMERAWH);
    return (uint64_t)hi << 32 | lo;
}

void delay_us(uint32_t us) {
    uint32_t t0 = TIMER->TIMERAWL;
    while (TIMER->TIMERAWL - t0 < us) { }
}

void unreset(uint32_t mask) {
    HW_CLR(&RESETS->RESET) = mask;
    while ((RESETS->RESET_DONE & mask) != mask) { }
}

/* GCC may turn loops or struct copies into calls to these even with -ffreestanding. */
void *memset(void *d, int c, size_t n) {
    uint8_t *p = d;
    while (n--) *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n) {
    uint8_t *p = d;
    const uint8_t *q = s;
    while (n--) *p++ = *q++;
    return d;
}
