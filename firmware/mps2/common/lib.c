/* Tiny test library: see lib.h. */
#include "lib.h"
#include "regs.h"
#include <stddef.h>

volatile uint32_t passed, failed;

void uart_init(void) { UART0_CTRL |= UART_CTRL_TXEN; }

void uart_putc(char c) {
    while (UART0_STATE & UART_STATE_TXFULL) { }
    UART0_DATA = (uint8_t)c;
}

void uart_puts(const char *s) { while (*s) uart_putc(*s++); }

void put_hex(uint32_t v) {
    uart_puts("0x");
    for (int i = 28; i >= 0; i -= 4) uart_putc("0123456789abcdef"[(v >> i) & 15]);
}

void put_dec(uint32_t v) {
    char buf[11];
    int i = 10;
    buf[i] = 0;
    do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    uart_puts(buf + i);
}

static void result(int ok, const char *name) {
    if (ok) { passed++; uart_puts("PASS "); }
    else { failed++; uart_puts("FAIL "); }
    uart_puts(name);
}

void check(int cond, const char *name) {
    result(cond, name);
    uart_putc('\n');
}

void check_eq(uint32_t got, uint32_t want, const char *name) {
    result(got == want, name);
    if (got != want) { uart_puts(": got "); put_hex(got); uart_puts(" want "); put_hex(want); }
    uart_putc('\n');
}

void info(const char *name, uint32_t v) {
    uart_puts("INFO "); uart_puts(name); uart_putc(' '); put_dec(v); uart_putc('\n');
}

void info_hex(const char *name, uint32_t v) {
    uart_puts("INFO "); uart_puts(name); uart_putc(' '); put_hex(v); uart_putc('\n');
}

void finish(void) {
    uart_puts("DONE ");
    put_dec(passed);
    uart_puts(" passed, ");
    put_dec(failed);
    uart_puts(" failed\n");
    sh_exit(failed ? 1 : 0);
}

/* Semihosting call: r0 = operation, r1 = argument, bkpt 0xab. */
static uint32_t semihost(uint32_t op, const void *arg) {
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

void timer_free_run(uint32_t base) {
    TIMER_CTRL(base) = 0;
    TIMER_RELOAD(base) = 0xFFFFFFFFu;
    TIMER_VALUE(base) = 0xFFFFFFFFu;
    TIMER_CTRL(base) = TIMER_EN;
}

void delay_ticks(uint32_t base, uint32_t ticks) {
    uint32_t t0 = TIMER_VALUE(base);
    while (t0 - TIMER_VALUE(base) < ticks) { }
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
