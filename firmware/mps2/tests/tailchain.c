/* Tail-chaining: IRQ28 (0x40) and IRQ29 (0x80) are pended while PRIMASK=1; on cpsie both run
 * back to back in priority order, with no thread code between them: the second one is entered
 * straight from the first one's return (the first is no longer active, LR is the same thread
 * EXC_RETURN 0xFFFFFFF9 in both, not a nested 0xFFFFFFF1). */
#include "lib.h"
#include "regs.h"

#define A 28
#define B 29

static volatile uint32_t thread_counter, seen_a, seen_b, lr_a, lr_b, iabr_a, iabr_b;
static volatile char order[4];
static volatile int n;

static inline uint32_t get_lr(void) { uint32_t lr; __asm volatile("mov %0, lr" : "=r"(lr)); return lr; }

void IRQ28_Handler(void) {
    lr_a = get_lr();
    seen_a = thread_counter; iabr_a = NVIC_IABR; order[n++] = 'A';
}
void IRQ29_Handler(void) {
    lr_b = get_lr();
    seen_b = thread_counter; iabr_b = NVIC_IABR; order[n++] = 'B';
}

int main(void) {
    uart_init();
    nvic_prio(A, 0x40);
    nvic_prio(B, 0x80);
    NVIC_ISER = (1u << A) | (1u << B);
    irq_disable();
    nvic_pend(B);                       /* lower priority first, to show order is by priority */
    nvic_pend(A);
    for (volatile int i = 0; i < 100; i++) { }
    check(n == 0, "PRIMASK holds both");
    check_eq(NVIC_ISPR & ((1u << A) | (1u << B)), (1u << A) | (1u << B), "both pending in ISPR");
    thread_counter = 7;
    irq_enable();
    thread_counter++;
    check(n == 2 && order[0] == 'A' && order[1] == 'B', "both ran, higher priority first");
    check(seen_a == 7 && seen_b == 7, "no thread code between the two handlers");
    check_eq(lr_a, EXC_RETURN_THREAD_MSP, "EXC_RETURN 0xFFFFFFF9 in the first handler");
    check_eq(lr_b, EXC_RETURN_THREAD_MSP, "EXC_RETURN 0xFFFFFFF9 in the chained handler");
    check_eq(iabr_a, 1u << A, "IABR in the first handler: only it");
    check_eq(iabr_b, 1u << B, "IABR in the chained handler: only it (not nested)");
    check_eq(thread_counter, 8, "thread resumed after the chain");
    check_eq(NVIC_ISPR & ((1u << A) | (1u << B)), 0, "nothing left pending");
    finish();
}
