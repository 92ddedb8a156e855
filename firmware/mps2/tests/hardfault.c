/* A load from unmapped memory (0x60000000 on AN385) is a precise bus fault; with BusFault not
 * enabled in SHCSR it escalates to HardFault. The stacked PC must be the faulting load itself.
 * Fault status registers are only reported (INFO), not checked. The handler exits. */
#include "lib.h"
#include "regs.h"

extern char fault_insn[];

void hard_fault_c(uint32_t *frame, uint32_t exc_return) {
    check(1, "HardFault handler ran");
    uint32_t hfsr = SCB_HFSR, cfsr = SCB_CFSR;
    info_hex("HFSR", hfsr);
    info_hex("CFSR", cfsr);
    if (hfsr & HFSR_FORCED) uart_puts("INFO HFSR.FORCED: escalated from a configurable fault\n");
    if (cfsr & CFSR_PRECISERR) uart_puts("INFO CFSR.PRECISERR: precise bus fault\n");
    if (cfsr & CFSR_BFARVALID) info_hex("BFAR", SCB_BFAR);
    info_hex("stacked PC", frame[6]);
    check_eq(frame[6], (uint32_t)fault_insn & ~1u, "stacked PC is the faulting load");
    check(frame[7] & (1u << 24), "stacked xPSR has the Thumb bit");
    check_eq(get_ipsr() & 0x1FF, EXC_HARDFAULT, "IPSR is 3 in HardFault");
    check_eq(exc_return, EXC_RETURN_THREAD_MSP, "EXC_RETURN 0xFFFFFFF9");
    finish();
}

__attribute__((naked)) void HardFault_Handler(void) {
    __asm volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "mov r1, lr\n"
        "b hard_fault_c\n");
}

int main(void) {
    uart_init();
    uint32_t v;
    __asm volatile(".global fault_insn\n"
                   "fault_insn: ldr %0, [%1]" : "=r"(v) : "r"(0x60000000u) : "memory");
    (void)v;
    check(0, "load from unmapped memory faulted");
    finish();
}
