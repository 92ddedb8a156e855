/* Tiny test library: UART output, PASS/FAIL checks, semihosting exit. */
#ifndef LIB_H
#define LIB_H
#include <stdint.h>
void uart_init(void);
void putc_(char c);
void puts_(const char *s);
void put_hex(uint32_t v);
void put_dec(uint32_t v);
void check(int cond, const char *name);
void info(const char *name, uint32_t v);
void finish(void) __attribute__((noreturn));
void sh_exit(int code) __attribute__((noreturn));
extern int passed, failed;
#endif
