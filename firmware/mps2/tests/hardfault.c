/* A load from unmapped memory enters HardFault; the stacked PC is the faulting load. */
#include "lib.h"
#include "regs.h"

extern char fault_insn[];

void hard_fault_c(uint32_t *frame) {
    check(1, "HardFault handler ran");
    info("CFSR", SCB_CFSR);
    info("HFSR", SCB_HFSR);
    check(frame[6] == ((uint32_t)fault_insn & ~1u), "stacked PC is the faulting load");
    check((get_ipsr() & 0x1FF) == 3, "IPSR is 3 in HardFault");
    finish();
}

__attribute__((naked)) void HardFault_Handler(void) {
    __asm volatile("tst lr, #4\n ite eq\n mrseq r0, msp\n mrsne r0, psp\n b hard_fault_c\n");
}

int main(void) {
    uart_init();
    uint32_t v;
    __asm volatile(".global fault_insn\nfault_insn: ldr %0, [%1]" : "=r"(v) : "r"(0x60000000u));
    (void)v;
    check(0, "load from unmapped memory faulted");
    finish();
}
