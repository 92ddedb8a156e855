/* CPU-bound: xorshift loop, no MMIO. Fixed iteration count, so a fixed instruction count. */
#include "lib.h"
int main(void) {
    uint32_t x = 2463534242u, s = 0;
    for (uint32_t i = 0; i < 40000000u; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; s += x; }
    uart_init(); puts_("bench_cpu "); put_hex(s); putc_('\n');
    return 0;
}
