/* Tiny test library for the boardemu RP2040 programs: output and exit through ARM semihosting
 * (bkpt 0xab; works before any peripheral is set up), PASS/FAIL checks, delays. No printf. */
#ifndef LIB_H
#define LIB_H
#include <stdint.h>

void putc_(char c);                    /* SYS_WRITEC */
void puts_(const char *s);             /* SYS_WRITE0; '\n' is sent as is */
/* PASS/FAIL checks, put_hex/put_dec, finish, semihosting: common/check.h (output by semihosting) */
#include "check.h"

/* TIMER (1 MHz counter, needs the TIMER block out of reset) */
uint64_t time_us(void);                                  /* TIMERAWH/TIMERAWL, consistent */
void delay_us(uint32_t us);                              /* busy-wait on TIMERAWL */
void unreset(uint32_t mask);                             /* RESETS: clear, wait RESET_DONE */

static inline uint32_t get_ipsr(void) {
    uint32_t v;
    __asm volatile("mrs %0, ipsr" : "=r"(v));
    return v;
}

#endif
