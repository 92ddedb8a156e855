/* NVIC priorities and preemption: a higher priority IRQ preempts at once, a lower or equal one
 * waits and runs afterwards (tail-chained). IPSR, VECTACTIVE and IABR inside handlers. */
#include "lib.h"
#include "regs.h"

#define LOW 24    /* prio 0xC0 */
#define HIGH 25   /* prio 0x40 */
#define MID 26    /* prio 0x80 */
#define EQ 27     /* prio 0xC0 */
static volatile char order[16];
static volatile int n;
static volatile uint32_t ipsr_high, vect_high, iabr_high;

static void rec(char c) { order[n++] = c; }

void IRQ24_Handler(void) { rec('L'); nvic_pend(HIGH); rec('l'); nvic_pend(EQ); rec('e'); }
void IRQ25_Handler(void) {
    rec('H');
    ipsr_high = get_ipsr();
    vect_high = SCB_ICSR & ICSR_VECTACTIVE_MASK;
    iabr_high = NVIC_IABR;
    nvic_pend(MID);
    rec('h');
}
void IRQ26_Handler(void) { rec('M'); }
void IRQ27_Handler(void) { rec('E'); }

static int streq(const volatile char *a, const char *b) {
    while (*b) if (*a++ != *b++) return 0;
    return *a == 0;
}

int main(void) {
    uart_init();
    nvic_prio(LOW, 0xC0); nvic_prio(HIGH, 0x40); nvic_prio(MID, 0x80); nvic_prio(EQ, 0xC0);
    check(NVIC_IPR_B[HIGH] == 0x40, "priority byte reads back");
    NVIC_ISER = (1u << LOW) | (1u << HIGH) | (1u << MID) | (1u << EQ);
    nvic_pend(LOW);
    order[n] = 0;
    puts_("order: "); puts_((const char *)order); putc_('\n');
    check(streq(order, "LHhMleE"), "preemption order L H h M l e E");
    check(ipsr_high == 16 + HIGH, "IPSR in handler is the exception number");
    check(vect_high == 16 + HIGH, "ICSR.VECTACTIVE in handler");
    check((iabr_high & ((1u << LOW) | (1u << HIGH))) == ((1u << LOW) | (1u << HIGH)), "IABR shows both active");
    check(NVIC_IABR == 0 && get_ipsr() == 0, "nothing active back in thread mode");
    finish();
}
