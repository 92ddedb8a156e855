/* Tiny test library for the boardemu RP2040 programs: output and exit through ARM semihosting
 * (bkpt 0xab; works before any peripheral is set up), PASS/FAIL checks, delays. No printf. */
#ifndef LIB_H
#define LIB_H
#include <stdint.h>

void putc_(char c);                    /* SYS_WRITEC */
void puts_(const char *s);             /* SYS_WRITE0; '\n' is sent as is */
void put_hex(uint32_t v);              /* 0x%08x */
void put_dec(uint32_t v);

/* "PASS name" or "FAIL name"; check_eq adds ": got X want Y" on failure. */
void check(int cond, const char *name);
void check_eq(uint32_t got, uint32_t want, const char *name);
void info(const char *name, uint32_t v);        /* "INFO name <decimal>" */
void info_hex(const char *name, uint32_t v);    /* "INFO name 0x........" */
/* "DONE <passed> passed, <failed> failed", then exit status 0 (all passed) or 1. */
void finish(void) __attribute__((noreturn));
extern volatile uint32_t passed, failed;

/* ARM semihosting (bkpt 0xab) */
uint32_t semihost(uint32_t op, const void *arg);
void sh_exit(int code) __attribute__((noreturn));        /* SYS_EXIT_EXTENDED */

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
