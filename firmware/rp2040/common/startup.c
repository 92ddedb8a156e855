/* Vector table and reset handler for the boardemu RP2040 test programs (Cortex-M0+, 16 system
 * vectors + 32 IRQs). The table sits at 0x10000100, where boot2 points VTOR and takes the
 * initial MSP and reset vector from. Every handler is weak: a program defines the ones it uses
 * by name (e.g. IRQ0_Handler for TIMER alarm 0). Unused ones report
 * "FAIL unexpected exception <n>" and exit with status 1. */
#include <stdint.h>
#include "lib.h"
#include "rp2040.h"

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
int main(void);

void Reset_Handler(void);

void Default_Handler(void) {
    uint32_t exc = get_ipsr() & 0x3F;
    puts_("FAIL unexpected exception ");
    put_dec(exc);
    putc_('\n');
    failed++;
    finish();
}

#define WEAK __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) WEAK;
void HardFault_Handler(void) WEAK;
void SVC_Handler(void) WEAK;
void PendSV_Handler(void) WEAK;
void SysTick_Handler(void) WEAK;
void IRQ0_Handler(void) WEAK;  void IRQ1_Handler(void) WEAK;  void IRQ2_Handler(void) WEAK;
void IRQ3_Handler(void) WEAK;  void IRQ4_Handler(void) WEAK;  void IRQ5_Handler(void) WEAK;
void IRQ6_Handler(void) WEAK;  void IRQ7_Handler(void) WEAK;  void IRQ8_Handler(void) WEAK;
void IRQ9_Handler(void) WEAK;  void IRQ10_Handler(void) WEAK; void IRQ11_Handler(void) WEAK;
void IRQ12_Handler(void) WEAK; void IRQ13_Handler(void) WEAK; void IRQ14_Handler(void) WEAK;
void IRQ15_Handler(void) WEAK; void IRQ16_Handler(void) WEAK; void IRQ17_Handler(void) WEAK;
void IRQ18_Handler(void) WEAK; void IRQ19_Handler(void) WEAK; void IRQ20_Handler(void) WEAK;
void IRQ21_Handler(void) WEAK; void IRQ22_Handler(void) WEAK; void IRQ23_Handler(void) WEAK;
void IRQ24_Handler(void) WEAK; void IRQ25_Handler(void) WEAK; void IRQ26_Handler(void) WEAK;
void IRQ27_Handler(void) WEAK; void IRQ28_Handler(void) WEAK; void IRQ29_Handler(void) WEAK;
void IRQ30_Handler(void) WEAK; void IRQ31_Handler(void) WEAK;

typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used))
const vector_t vectors[16 + 32] = {
    (vector_t)&_estack,     /*  0: initial MSP */
    Reset_Handler,          /*  1 */
    NMI_Handler,            /*  2 */
    HardFault_Handler,      /*  3 */
    0, 0, 0, 0, 0, 0, 0,    /*  4-10: reserved on ARMv6-M */
    SVC_Handler,            /* 11 */
    0, 0,                   /* 12-13: reserved */
    PendSV_Handler,         /* 14 */
    SysTick_Handler,        /* 15 */
    IRQ0_Handler,  IRQ1_Handler,  IRQ2_Handler,  IRQ3_Handler,  IRQ4_Handler,  IRQ5_Handler,
    IRQ6_Handler,  IRQ7_Handler,  IRQ8_Handler,  IRQ9_Handler,  IRQ10_Handler, IRQ11_Handler,
    IRQ12_Handler, IRQ13_Handler, IRQ14_Handler, IRQ15_Handler, IRQ16_Handler, IRQ17_Handler,
    IRQ18_Handler, IRQ19_Handler, IRQ20_Handler, IRQ21_Handler, IRQ22_Handler, IRQ23_Handler,
    IRQ24_Handler, IRQ25_Handler, IRQ26_Handler, IRQ27_Handler, IRQ28_Handler, IRQ29_Handler,
    IRQ30_Handler, IRQ31_Handler,
};

/* Entered from boot2 on core 0 (core 1 stays parked in the boot ROM). .noinit is left alone. */
void Reset_Handler(void) {
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss; ) *dst++ = 0;
    sh_exit(main());
}
