/* Tail-chaining: two IRQs pended under PRIMASK run back to back, in priority order, with no
 * thread code between them and the same EXC_RETURN in LR. */
#include "lib.h"
#include "regs.h"

static volatile uint32_t thread_counter, seen_a, seen_b, lr_a, lr_b;
static volatile char order[4];
static volatile int n;

void IRQ28_Handler(void) {
    uint32_t lr;
    __asm volatile("mov %0, lr" : "=r"(lr));
    lr_a = lr; seen_a = thread_counter; order[n++] = 'A';
}
void IRQ29_Handler(void) {
    uint32_t lr;
    __asm volatile("mov %0, lr" : "=r"(lr));
    lr_b = lr; seen_b = thread_counter; order[n++] = 'B';
}

int main(void) {
    uart_init();
    nvic_prio(28, 0x40);
    nvic_prio(29, 0x80);
    NVIC_ISER = (1u << 28) | (1u << 29);
    irq_disable();
    nvic_pend(29);
    nvic_pend(28);
    for (volatile int i = 0; i < 100; i++) { }
    check(n == 0, "PRIMASK holds both");
    thread_counter = 7;
    irq_enable();
    thread_counter++;
    check(n == 2 && order[0] == 'A' && order[1] == 'B', "both ran, higher priority first");
    check(seen_a == 7 && seen_b == 7, "no thread code between the two handlers");
    check(lr_a == 0xFFFFFFF9 && lr_b == 0xFFFFFFF9, "EXC_RETURN 0xFFFFFFF9 in both");
    check(thread_counter == 8, "thread resumed after the chain");
    finish();
}
