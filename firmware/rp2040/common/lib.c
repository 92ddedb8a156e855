/* Tiny test library: see lib.h. */
#include "lib.h"
#include "rp2040.h"
#include <stddef.h>

volatile uint32_t passed, failed;

/* Semihosting call: r0 = operation, r1 = argument, bkpt 0xab. */
uint32_t semihost(uint32_t op, const void *arg) {
    register uint32_t r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void putc_(char c) { semihost(0x03, &c); }

void puts_(const char *s) { semihost(0x04, s); }

void put_hex(uint32_t v) {
    char buf[11];
    buf[0] = '0'; buf[1] = 'x'; buf[10] = 0;
    for (int i = 0; i < 8; i++) buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
    puts_(buf);
}

void put_dec(uint32_t v) {
    char buf[11];
    int i = 10;
    buf[i] = 0;
    do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    puts_(buf + i);
}

static void result(int ok, const char *name) {
    if (ok) { passed++; puts_("PASS "); }
    else { failed++; puts_("FAIL "); }
    puts_(name);
}

void check(int cond, const char *name) {
    result(cond, name);
    putc_('\n');
}

void check_eq(uint32_t got, uint32_t want, const char *name) {
    result(got == want, name);
    if (got != want) { puts_(": got "); put_hex(got); puts_(" want "); put_hex(want); }
    putc_('\n');
}

void info(const char *name, uint32_t v) {
    puts_("INFO "); puts_(name); putc_(' '); put_dec(v); putc_('\n');
}

void info_hex(const char *name, uint32_t v) {
    puts_("INFO "); puts_(name); putc_(' '); put_hex(v); putc_('\n');
}

void finish(void) {
    puts_("DONE ");
    put_dec(passed);
    puts_(" passed, ");
    put_dec(failed);
    puts_(" failed\n");
    sh_exit(failed ? 1 : 0);
}

void sh_exit(int code) {
    /* SYS_EXIT_EXTENDED with {ADP_Stopped_ApplicationExit, exit code} */
    static volatile uint32_t block[2];
    block[0] = 0x20026;
    block[1] = (uint32_t)code;
    semihost(0x20, (const void *)block);
    for (;;) { }
}

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
