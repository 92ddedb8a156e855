/* Vector table and reset handler for mps2-an385 (Cortex-M3, 32 external IRQs). */
#include <stdint.h>

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
int main(void);
void sh_exit(int code);

void Reset_Handler(void);
void Default_Handler(void) { for (;;) { } }
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

__attribute__((section(".vectors"), used))
void (*const vectors[16 + 32])(void) = {
    (void (*)(void))&_estack, Reset_Handler, NMI_Handler, HardFault_Handler,
    MemManage_Handler, BusFault_Handler, UsageFault_Handler, 0, 0, 0, 0,
    SVC_Handler, DebugMon_Handler, 0, PendSV_Handler, SysTick_Handler,
    IRQ0_Handler, IRQ1_Handler, IRQ2_Handler, IRQ3_Handler, IRQ4_Handler, IRQ5_Handler,
    IRQ6_Handler, IRQ7_Handler, IRQ8_Handler, IRQ9_Handler, IRQ10_Handler, IRQ11_Handler,
    IRQ12_Handler, IRQ13_Handler, IRQ14_Handler, IRQ15_Handler, IRQ16_Handler, IRQ17_Handler,
    IRQ18_Handler, IRQ19_Handler, IRQ20_Handler, IRQ21_Handler, IRQ22_Handler, IRQ23_Handler,
    IRQ24_Handler, IRQ25_Handler, IRQ26_Handler, IRQ27_Handler, IRQ28_Handler, IRQ29_Handler,
    IRQ30_Handler, IRQ31_Handler,
};

void Reset_Handler(void) {
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss; ) *dst++ = 0;
    sh_exit(main());
}
