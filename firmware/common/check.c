/* Shared test library: see check.h. */
#include "check.h"

volatile uint32_t passed, failed;

void put_hex(uint32_t v) {
    char buf[11];
    buf[0] = '0'; buf[1] = 'x'; buf[10] = 0;
    for (int i = 0; i < 8; i++) buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
    out_puts(buf);
}

void put_dec(uint32_t v) {
    char buf[11];
    int i = 10;
    buf[i] = 0;
    do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    out_puts(buf + i);
}

static void result(int ok, const char *name) {
    if (ok) { passed++; out_puts("PASS "); }
    else { failed++; out_puts("FAIL "); }
    out_puts(name);
}

void check(int cond, const char *name) {
    result(cond, name);
    out_putc('\n');
}

void check_eq(uint32_t got, uint32_t want, const char *name) {
    result(got == want, name);
    if (got != want) { out_puts(": got "); put_hex(got); out_puts(" want "); put_hex(want); }
    out_putc('\n');
}

void info(const char *name, uint32_t v) {
    out_puts("INFO "); out_puts(name); out_putc(' '); put_dec(v); out_putc('\n');
}

void info_hex(const char *name, uint32_t v) {
    out_puts("INFO "); out_puts(name); out_putc(' '); put_hex(v); out_putc('\n');
}

void finish(void) {
    out_puts("DONE ");
    put_dec(passed);
    out_puts(" passed, ");
    put_dec(failed);
    out_puts(" failed\n");
    sh_exit(failed ? 1 : 0);
}

/* Semihosting call: r0 = operation, r1 = argument, bkpt 0xab. */
uint32_t semihost(uint32_t op, const void *arg) {
    register uint32_t r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sh_write0(const char *s) { semihost(0x04, s); }

void sh_exit(int code) {
    /* SYS_EXIT_EXTENDED with {ADP_Stopped_ApplicationExit, exit code} */
    static volatile uint32_t block[2];
    block[0] = 0x20026;
    block[1] = (uint32_t)code;
    semihost(0x20, (const void *)block);
    for (;;) { }
}
