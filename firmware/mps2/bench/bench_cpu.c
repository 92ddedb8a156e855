/* CPU-bound, no MMIO: 50,000,000 iterations of a 6-instruction xorshift32 loop written in asm,
 * so the instruction count is fixed whatever the compiler: 300,000,000 in the loop, plus a few
 * hundred for setup and printing. The sum is checked against the known result. */
#include "lib.h"

#define ITERATIONS 50000000u
#define SEED       2463534242u
#define EXPECTED   0xcd34ae13u          /* sum of the xorshift32 states, mod 2^32 */

/* r0 = iterations, r1 = state; returns the sum of the states (mod 2^32). */
__attribute__((naked)) static uint32_t xorshift_sum(uint32_t n __attribute__((unused)),
                                                    uint32_t x __attribute__((unused))) {
    __asm volatile(
        "mov r2, #0\n"
        "1:\n"
        "eor r1, r1, r1, lsl #13\n"
        "eor r1, r1, r1, lsr #17\n"
        "eor r1, r1, r1, lsl #5\n"
        "add r2, r2, r1\n"
        "subs r0, r0, #1\n"
        "bne 1b\n"
        "mov r0, r2\n"
        "bx lr\n");
}

int main(void) {
    uint32_t s = xorshift_sum(ITERATIONS, SEED);
    uart_init();
    uart_puts("bench_cpu iterations "); put_dec(ITERATIONS);
    uart_puts(" sum "); put_hex(s); uart_putc('\n');
    return s == EXPECTED ? 0 : 1;
}
