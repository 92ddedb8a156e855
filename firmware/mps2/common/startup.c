/* Vector table and reset handler for mps2-an385 (Cortex-M3, 16 system vectors + 32 IRQs).
 * Every handler is weak: a program defines the ones it uses by name (e.g. IRQ24_Handler).
 * Unused ones report "FAIL unexpected exception <n>" and exit with status 1. */
#include <stdint.h>
#include "lib.h"
#include "regs.h"

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
int main(void);

void Reset_Handler(void);

void Default_Handler(void) {
    uint32_t exc = get_ipsr() & 0x1FF;
    uart_init();
    uart_puts("FAIL unexpected exception ");
    put_dec(exc);
    uart_putc('\n');
    failed++;
    finish();
}

#define WEAK __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) WEAK;
void HardFault_Handler(void) WEAK;
void MemManage_Handler(void) WEAK;
void BusFault_Handler(void) WEAK;
void UsageFault_Handler(void) WEAK;
void SVC_Handler(void) WEAK;
void DebugMon_Handler(void) WEAK;
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
    MemManage_Handler,      /*  4 */
    BusFault_Handler,       /*  5 */
    UsageFault_Handler,     /*  6 */
    0, 0, 0, 0,             /*  7-10: reserved */
    SVC_Handler,            /* 11 */
    DebugMon_Handler,       /* 12 */
    0,                      /* 13: reserved */
    PendSV_Handler,         /* 14 */
    SysTick_Handler,        /* 15 */
    IRQ0_Handler,  IRQ1_Handler,  IRQ2_Handler,  IRQ3_Handler,  IRQ4_Handler,  IRQ5_Handler,
    IRQ6_Handler,  IRQ7_Handler,  IRQ8_Handler,  IRQ9_Handler,  IRQ10_Handler, IRQ11_Handler,
    IRQ12_Handler, IRQ13_Handler, IRQ14_Handler, IRQ15_Handler, IRQ16_Handler, IRQ17_Handler,
    IRQ18_Handler, IRQ19_Handler, IRQ20_Handler, IRQ21_Handler, IRQ22_Handler, IRQ23_Handler,
    IRQ24_Handler, IRQ25_Handler, IRQ26_Handler, IRQ27_Handler, IRQ28_Handler, IRQ29_Handler,
    IRQ30_Handler, IRQ31_Handler,
};

/* Runs after every reset (power-on and SYSRESETREQ): .noinit is left alone. */
void Reset_Handler(void) {
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss; ) *dst++ = 0;
    sh_exit(main());
}
