/* Tiny test library: see lib.h. */
#include "lib.h"
#include "regs.h"
#include <stddef.h>

void uart_init(void) { UART0_CTRL |= UART_CTRL_TXEN; }

void uart_putc(char c) {
    while (UART0_STATE & UART_STATE_TXFULL) { }
    UART0_DATA = (uint8_t)c;
}

void uart_puts(const char *s) { while (*s) uart_putc(*s++); }

/* output of the shared check library (common/check.c) */
void out_putc(char c) { uart_putc(c); }
void out_puts(const char *s) { uart_puts(s); }

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
