/* PRIMASK holds a pended IRQ until cpsie, then it runs at once; BASEPRI masks lower priority
 * only. */
#include "lib.h"
#include "regs.h"

static volatile uint32_t ran30, ran31;
void IRQ30_Handler(void) { ran30++; }
void IRQ31_Handler(void) { ran31++; }

int main(void) {
    uart_init();
    nvic_prio(30, 0x80);
    nvic_prio(31, 0x20);
    NVIC_ISER = (1u << 30) | (1u << 31);
    irq_disable();
    nvic_pend(30);
    for (volatile int i = 0; i < 2000; i++) { }
    check(ran30 == 0, "PRIMASK=1 holds a pended IRQ");
    check(NVIC_ISPR & (1u << 30), "it stays pending");
    irq_enable();
    uint32_t after = ran30;
    check(after == 1, "cpsie: it runs before the next statement");

    set_basepri(0x40);
    nvic_pend(30);
    for (volatile int i = 0; i < 2000; i++) { }
    check(ran30 == 1, "BASEPRI 0x40 masks priority 0x80");
    nvic_pend(31);
    uint32_t r31 = ran31;
    check(r31 == 1, "BASEPRI 0x40 lets priority 0x20 through");
    set_basepri(0);
    uint32_t r30 = ran30;
    check(r30 == 2, "lowering BASEPRI releases the masked IRQ");
    finish();
}
