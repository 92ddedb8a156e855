/* PendSV context switch between two threads running on the process stack (CONTROL.SPSEL=1).
 *
 * PendSV saves r4-r11 on the outgoing thread's PSP stack and restores the other thread's; the
 * hardware stacks and restores r0-r3, r12, lr, pc and xPSR. Threads yield in turn by setting
 * ICSR.PENDSVSET (from asm, with every register r0-r12, lr and the NZCV flags holding known
 * values that are checked after the switch back) and by `svc` (the SVC handler reads the SVC
 * number from the instruction before the stacked PC, then pends PendSV). Both threads must
 * progress in strict alternation. */
#include "lib.h"
#include "regs.h"

#define ROUNDS 20
#define SVC_T0 7
#define SVC_T1 42

uint32_t *sp_saved[3];               /* saved PSP per context; used by the PendSV asm */
uint32_t current = 2;                /* context 2: main, switched away from once, never resumed */
volatile uint32_t pendsv_lr;
static uint32_t stack0[256] __attribute__((aligned(8)));
static uint32_t stack1[256] __attribute__((aligned(8)));
static volatile uint8_t trace[2 * ROUNDS + 4];
static volatile int tn;
static volatile uint32_t svc_count, svc_bad, svc_lr_bad, regs_bad, control_seen;

__attribute__((naked)) void PendSV_Handler(void) {
    __asm volatile(
        "mrs r0, psp\n"
        "stmdb r0!, {r4-r11}\n"          /* callee-saved registers onto the thread's stack */
        "ldr r3, =sp_saved\n"
        "ldr r1, =current\n"
        "ldr r2, [r1]\n"
        "str r0, [r3, r2, lsl #2]\n"
        "ldr r0, =pendsv_lr\n"
        "str lr, [r0]\n"
        "cmp r2, #0\n"                    /* next = (current == 0) ? 1 : 0 */
        "ite eq\n"
        "moveq r2, #1\n"
        "movne r2, #0\n"
        "str r2, [r1]\n"
        "ldr r0, [r3, r2, lsl #2]\n"
        "ldmia r0!, {r4-r11}\n"
        "msr psp, r0\n"
        "bx lr\n"
        ".ltorg\n");
}

void svc_c(uint32_t *frame, uint32_t exc_return) {
    uint16_t insn = *(uint16_t *)(frame[6] - 2);   /* stacked PC: the instruction after svc */
    uint32_t want = current == 0 ? SVC_T0 : SVC_T1;
    if ((insn & 0xFF00) != 0xDF00 || (insn & 0xFF) != want) svc_bad++;
    if (exc_return != EXC_RETURN_THREAD_PSP) svc_lr_bad++;
    svc_count++;
    SCB_ICSR = ICSR_PENDSVSET;          /* switch once this handler returns (tail-chain) */
}

__attribute__((naked)) void SVC_Handler(void) {
    __asm volatile(
        "tst lr, #4\n"                    /* EXC_RETURN bit 2: which stack holds the frame */
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "mov r1, lr\n"
        "b svc_c\n");
}

/* Called from regs_survive with the 14 registers it pushed (r0-r12, lr) and the APSR. */
void regs_check(const uint32_t *s, uint32_t apsr) {
    uint32_t seed = s[12];
    int ok = s[0] == seed + 8 && s[1] == seed + 9 && s[2] == 0xE000ED04 && s[3] == ICSR_PENDSVSET &&
             s[13] == seed + 0x1A && (apsr & 0xF0000000u) == 0xA0000000u;
    for (int i = 4; i < 12; i++) if (s[i] != seed + 0x0C + (uint32_t)i) ok = 0;
    if (!ok) regs_bad++;
}

/* Fill r0-r12, lr and NZCV with values derived from seed, yield via PENDSVSET, and hand the
 * values seen after the switch back to regs_check. */
__attribute__((naked)) void regs_survive(uint32_t seed __attribute__((unused))) {
    __asm volatile(
        "push {r3-r11, lr}\n"
        "mov r12, r0\n"
        "add r1, r12, #9\n"
        "add r4, r12, #0x10\n add r5, r12, #0x11\n add r6, r12, #0x12\n add r7, r12, #0x13\n"
        "add r8, r12, #0x14\n add r9, r12, #0x15\n add r10, r12, #0x16\n add r11, r12, #0x17\n"
        "add lr, r12, #0x1A\n"
        "mov r3, #0xA0000000\n"           /* N=1 Z=0 C=1 V=0 */
        "msr APSR_nzcvq, r3\n"
        "movw r2, #0xED04\n movt r2, #0xE000\n"
        "mov r3, #0x10000000\n"           /* ICSR.PENDSVSET */
        "add r0, r12, #8\n"
        "str r3, [r2]\n"
        "dsb\n isb\n"                     /* the switch happens here */
        "push {r0-r12, lr}\n"
        "mrs r1, apsr\n"
        "mov r0, sp\n"
        "bl regs_check\n"
        "add sp, sp, #56\n"
        "pop {r3-r11, pc}\n");
}

static void report(void) {
    int alternate = 1;
    for (int i = 0; i < tn; i++) if (trace[i] != (i & 1)) alternate = 0;
    check_eq((uint32_t)tn, 2 * ROUNDS, "both threads ran every round");
    check(alternate, "threads alternate strictly 0,1,0,1...");
    check_eq(regs_bad, 0, "r0-r12, lr and NZCV survive context switches");
    check_eq(svc_count, ROUNDS, "every svc reached the SVC handler");
    check_eq(svc_bad, 0, "SVC number read from the stacked PC (7 in thread 0, 42 in thread 1)");
    check_eq(svc_lr_bad, 0, "EXC_RETURN 0xFFFFFFFD in SVC from a PSP thread");
    check_eq(pendsv_lr, EXC_RETURN_THREAD_PSP, "EXC_RETURN 0xFFFFFFFD in PendSV");
    check_eq(control_seen, 3, "both threads run on PSP (CONTROL.SPSEL=1)");
    finish();
}

static void thread0(void) {
    if (get_control() & 2) control_seen |= 1;
    for (int i = 0; i < ROUNDS; i++) {
        trace[tn++] = 0;
        if (i & 1) regs_survive(0x1000 + 0x100 * (uint32_t)i);
        else __asm volatile("svc %0" :: "i"(SVC_T0) : "memory");
    }
    for (;;) SCB_ICSR = ICSR_PENDSVSET;
}

static void thread1(void) {
    if (get_control() & 2) control_seen |= 2;
    for (int i = 0; i < ROUNDS; i++) {
        trace[tn++] = 1;
        if (i & 1) __asm volatile("svc %0" :: "i"(SVC_T1) : "memory");
        else regs_survive(0x2000 + 0x100 * (uint32_t)i);
    }
    report();
}

/* A stack as PendSV leaves it: r4-r11, then the hardware frame r0-r3, r12, lr, pc, xPSR. */
static uint32_t *fake_frame(uint32_t *top, void (*entry)(void)) {
    uint32_t *sp = top - 16;
    for (int i = 0; i < 16; i++) sp[i] = 0;
    sp[8 + 5] = 0xFFFFFFFF;               /* lr: threads never return */
    sp[8 + 6] = (uint32_t)entry & ~1u;    /* pc */
    sp[8 + 7] = 0x01000000;               /* xPSR: Thumb bit */
    return sp;
}

int main(void) {
    static uint32_t main_psp_area[64] __attribute__((aligned(8)));
    uart_init();
    SCB_SHPR3 = (SCB_SHPR3 & 0xFF00FFFFu) | (0xFFu << 16);   /* PendSV at the lowest priority */
    /* AN385's Cortex-M3 keeps the top 3 priority bits (reads 0xE0), QEMU all 8 (0xFF). */
    check_eq(SCB_SHPR3 & 0x00E00000u, 0x00E00000u, "SHPR3 PendSV priority reads back (top 3 bits)");
    sp_saved[0] = fake_frame(stack0 + 256, thread0);
    sp_saved[1] = fake_frame(stack1 + 256, thread1);
    __asm volatile("msr psp, %0\n mov r0, #2\n msr control, r0\n isb"
                   :: "r"(main_psp_area + 64) : "r0", "memory");
    SCB_ICSR = ICSR_PENDSVSET;
    for (;;) { }
}
