/* Smoke test of the RP2040 test kit: the boot ROM checked boot2's CRC and entered it, boot2 set
 * VTOR and started Reset_Handler from the vector table at 0x10000100; .data and .bss set up. */
#include "lib.h"
#include "rp2040.h"

static volatile uint32_t data_word = 0x12345678u;
static volatile uint32_t bss_word;

int main(void) {
    puts_("Hello from rp2040\n");
    check_eq(SCB_VTOR, 0x10000100u, "vtor");
    check_eq(data_word, 0x12345678u, "data");
    check_eq(bss_word, 0, "bss");
    check_eq(rom_hword(0x10u), 'M' | 'u' << 8, "rom magic");
    check(rom_func_lookup(ROM_TABLE_CODE('M', 'C')) != 0, "rom lookup MC");
    finish();
}
