/* Tiny test library for the mps2-an385 programs: UART0 output, PASS/FAIL checks, semihosting. */
#ifndef LIB_H
#define LIB_H
#include <stdint.h>

void uart_init(void);                  /* enable UART0 TX (idempotent) */
void uart_putc(char c);                /* '\n' is sent as is */
void uart_puts(const char *s);
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
void sh_write0(const char *s);                           /* SYS_WRITE0 */
void sh_exit(int code) __attribute__((noreturn));        /* SYS_EXIT_EXTENDED */

/* Timer helpers (CMSDK timer at 25 MHz) */
void timer_free_run(uint32_t base);                      /* RELOAD 0xFFFFFFFF, enabled, no IRQ */
void delay_ticks(uint32_t base, uint32_t ticks);         /* busy-wait on a free-running timer */

#endif
