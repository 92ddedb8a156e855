/* NVIC priorities and preemption (lower number = more urgent).
 *
 * IRQ24 (LOW, 0xC0) is pended from thread mode. Its handler pends IRQ25 (HIGH, 0x40), which
 * must preempt at once; HIGH pends IRQ26 (MID, 0x80), which must NOT preempt HIGH but must run
 * as soon as HIGH returns, still before LOW continues (it outranks LOW). LOW then pends IRQ27
 * (EQ, 0xC0, equal to LOW), which must wait until LOW returns. Each handler records IPSR,
 * ICSR.VECTACTIVE and the NVIC active bits (IABR). */
#include "lib.h"
#include "regs.h"

#define LOW  24
#define HIGH 25
#define MID  26
#define EQ   27
#define BIT(irq) (1u << (irq))

static volatile char order[16];
static volatile int n;
static struct { volatile uint32_t ipsr, vect, iabr, ispr; } seen[32];

static void rec(char c) { order[n++] = c; }
static void note(int irq) {
    seen[irq].ipsr = get_ipsr();
    seen[irq].vect = SCB_ICSR & ICSR_VECTACTIVE_MASK;
    seen[irq].iabr = NVIC_IABR;
}

void IRQ24_Handler(void) {
    rec('L'); note(LOW);
    nvic_pend(HIGH);        /* higher priority: runs here, before the next line */
    rec('l');
    nvic_pend(EQ);          /* equal priority: waits until this handler returns */
    seen[EQ].ispr = NVIC_ISPR;
    rec('e');
}
void IRQ25_Handler(void) {
    rec('H'); note(HIGH);
    nvic_pend(MID);         /* lower priority: waits until this handler returns */
    seen[MID].ispr = NVIC_ISPR;
    rec('h');
}
void IRQ26_Handler(void) { rec('M'); note(MID); }
void IRQ27_Handler(void) { rec('E'); note(EQ); }

static int streq(const volatile char *a, const char *b) {
    while (*b) if (*a++ != *b++) return 0;
    return *a == 0;
}

int main(void) {
    uart_init();

    /* AN385's Cortex-M3 implements 3 priority bits; QEMU keeps all 8. Only report it. */
    nvic_prio(31, 0xFF);
    info_hex("IRQ31 priority after writing 0xff", NVIC_IPR(31));
    nvic_prio(31, 0);

    nvic_prio(LOW, 0xC0); nvic_prio(HIGH, 0x40); nvic_prio(MID, 0x80); nvic_prio(EQ, 0xC0);
    check_eq(NVIC_IPR(HIGH), 0x40, "priority byte reads back");
    check_eq(REG(0xE000E400 + 24), 0xC08040C0, "IPR word 6 holds IRQ24..27 priorities");
    NVIC_ISER = BIT(LOW) | BIT(HIGH) | BIT(MID) | BIT(EQ);
    check_eq(NVIC_ISER & 0x0F000000, 0x0F000000, "ISER reads back the enabled IRQs");

    nvic_pend(LOW);
    order[n] = 0;
    uart_puts("order: "); uart_puts((const char *)order); uart_putc('\n');
    check(streq(order, "LHhMleE"), "preemption order L H h M l e E");

    int ids_ok = 1;
    for (int irq = LOW; irq <= EQ; irq++) {
        if (seen[irq].ipsr != (uint32_t)EXC_IRQ(irq) || seen[irq].vect != (uint32_t)EXC_IRQ(irq)) {
            uart_puts("  IRQ"); put_dec((uint32_t)irq); uart_puts(": IPSR "); put_dec(seen[irq].ipsr);
            uart_puts(" VECTACTIVE "); put_dec(seen[irq].vect); uart_putc('\n');
            ids_ok = 0;
        }
    }
    check(ids_ok, "IPSR (mrs) and ICSR.VECTACTIVE = 16 + IRQ in every handler");
    check_eq(seen[LOW].iabr, BIT(LOW), "IABR in LOW: LOW active");
    check_eq(seen[HIGH].iabr, BIT(LOW) | BIT(HIGH), "IABR in HIGH: LOW and HIGH active (nested)");
    check_eq(seen[MID].iabr, BIT(LOW) | BIT(MID), "IABR in MID: LOW and MID active");
    check_eq(seen[EQ].iabr, BIT(EQ), "IABR in EQ: LOW has returned");
    check(seen[MID].ispr & BIT(MID), "MID pended from HIGH stays pending in ISPR");
    check(seen[EQ].ispr & BIT(EQ), "EQ pended from LOW stays pending in ISPR");
    check_eq(NVIC_IABR, 0, "IABR 0 back in thread mode");
    check_eq(NVIC_ISPR & 0x0F000000, 0, "ISPR 0: nothing left pending");
    check_eq(get_ipsr(), 0, "IPSR 0 back in thread mode");
    check_eq(SCB_ICSR & ICSR_VECTACTIVE_MASK, 0, "VECTACTIVE 0 back in thread mode");
    finish();
}
