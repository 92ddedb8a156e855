/* PRIMASK holds a pended IRQ until cpsie, then it runs at once (before the next C statement).
 * BASEPRI (ARMv7-M) masks IRQs of lower or equal priority only; raising it back to 0 releases
 * what it held. IRQ30 has priority 0x80, IRQ31 0x20. */
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
    check_eq(get_primask(), 1, "cpsid i sets PRIMASK");
    nvic_pend(30);
    for (volatile int i = 0; i < 2000; i++) { }
    check_eq(ran30, 0, "PRIMASK=1 holds a pended IRQ");
    check(NVIC_ISPR & (1u << 30), "it stays pending");
    irq_enable();
    uint32_t after = ran30;
    check_eq(after, 1, "cpsie: it runs before the next statement");
    check_eq(get_primask(), 0, "cpsie i clears PRIMASK");

    set_basepri(0x40);
    check_eq(get_basepri(), 0x40, "BASEPRI reads back");
    nvic_pend(30);
    for (volatile int i = 0; i < 2000; i++) { }
    check_eq(ran30, 1, "BASEPRI 0x40 masks priority 0x80");
    nvic_pend(31);
    uint32_t r31 = ran31;
    check_eq(r31, 1, "BASEPRI 0x40 lets priority 0x20 through");
    set_basepri(0x80);
    for (volatile int i = 0; i < 2000; i++) { }
    check_eq(ran30, 1, "BASEPRI 0x80 masks equal priority 0x80");
    set_basepri(0);
    uint32_t r30 = ran30;
    check_eq(r30, 2, "BASEPRI 0 releases the held IRQ at once");
    finish();
}
