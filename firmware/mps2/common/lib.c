#include "lib.h"
#include "regs.h"

int passed, failed;

void uart_init(void) { UART0_CTRL = 1; }

void putc_(char c) {
    while (UART0_STATE & 1) { }
    UART0_DATA = (uint8_t)c;
}

void puts_(const char *s) { while (*s) putc_(*s++); }

void put_hex(uint32_t v) {
    puts_("0x");
    for (int i = 28; i >= 0; i -= 4) putc_("0123456789abcdef"[(v >> i) & 15]);
}

void put_dec(uint32_t v) {
    char buf[11];
    int i = 10;
    buf[i] = 0;
    do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    puts_(buf + i);
}

void check(int cond, const char *name) {
    if (cond) { passed++; puts_("PASS "); }
    else { failed++; puts_("FAIL "); }
    puts_(name);
    putc_('\n');
}

void info(const char *name, uint32_t v) {
    puts_("INFO ");
    puts_(name);
    putc_(' ');
    put_dec(v);
    putc_('\n');
}

/* ARM semihosting SYS_EXIT_EXTENDED: {ADP_Stopped_ApplicationExit, code} */
void sh_exit(int code) {
    static volatile uint32_t block[2];
    block[0] = 0x20026;
    block[1] = (uint32_t)code;
    register uint32_t r0 __asm("r0") = 0x20;
    register volatile uint32_t *r1 __asm("r1") = block;
    __asm volatile("bkpt 0xab" :: "r"(r0), "r"(r1) : "memory");
    for (;;) { }
}

void finish(void) {
    puts_("DONE ");
    put_dec((uint32_t)passed);
    puts_(" passed, ");
    put_dec((uint32_t)failed);
    puts_(" failed\n");
    sh_exit(failed ? 1 : 0);
}
