/* Tiny test library for the mps2-an385 programs: UART0 output, PASS/FAIL checks, semihosting. */
#ifndef LIB_H
#define LIB_H
#include <stdint.h>

void uart_init(void);                  /* enable UART0 TX (idempotent) */
void uart_putc(char c);                /* '\n' is sent as is */
void uart_puts(const char *s);
/* PASS/FAIL checks, put_hex/put_dec, finish, semihosting: common/check.h (output on UART0) */
#include "check.h"

/* Timer helpers (CMSDK timer at 25 MHz) */
void timer_free_run(uint32_t base);                      /* RELOAD 0xFFFFFFFF, enabled, no IRQ */
void delay_ticks(uint32_t base, uint32_t ticks);         /* busy-wait on a free-running timer */

#endif
