/* Shared by every test program: PASS/FAIL checks, number output, ARM semihosting.
 * Each board's lib provides the output primitives out_putc/out_puts (a UART, or semihosting). */
#ifndef CHECK_H
#define CHECK_H
#include <stdint.h>

void out_putc(char c);                 /* provided by the board's lib */
void out_puts(const char *s);          /* provided by the board's lib */

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

/* ARM semihosting (bkpt 0xab): boardemu and QEMU implement it on every board */
uint32_t semihost(uint32_t op, const void *arg);
void sh_write0(const char *s);                           /* SYS_WRITE0 */
void sh_exit(int code) __attribute__((noreturn));        /* SYS_EXIT_EXTENDED */

#endif
