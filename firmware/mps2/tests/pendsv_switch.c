/* PendSV context switch between two threads on PSP; yields by PENDSVSET and by SVC; r4-r11
 * survive switches; the SVC handler reads its number from the stacked PC. */
#include "lib.h"
#include "regs.h"

#define ROUNDS 20
uint32_t *sp_saved[3];
uint32_t current = 2;                /* slot 2: main's context, never resumed */
static uint32_t stack0[256] __attribute__((aligned(8)));
static uint32_t stack1[256] __attribute__((aligned(8)));
static volatile uint8_t trace[2 * ROUNDS + 4];
static volatile int tn;
static volatile uint32_t last_svc, svc_count, regs_ok = 1, control_seen;

__attribute__((naked)) void PendSV_Handler(void) {
    __asm volatile(
        "mrs r0, psp\n"
        "stmdb r0!, {r4-r11}\n"
        "ldr r1, =current\n"
        "ldr r2, [r1]\n"
        "ldr r3, =sp_saved\n"
        "str r0, [r3, r2, lsl #2]\n"
        "cmp r2, #0\n"
        "ite eq\n"
        "moveq r2, #1\n"
        "movne r2, #0\n"
        "str r2, [r1]\n"
        "ldr r0, [r3, r2, lsl #2]\n"
        "ldmia r0!, {r4-r11}\n"
        "msr psp, r0\n"
        "bx lr\n");
}

void svc_c(uint32_t *frame) {
    uint16_t insn = *(uint16_t *)(frame[6] - 2);
    last_svc = insn & 0xFF;
    svc_count++;
    SCB_ICSR = ICSR_PENDSVSET;
}

__attribute__((naked)) void SVC_Handler(void) {
    __asm volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "b svc_c\n");
}

/* Load r4-r11 with seed+0..7, yield, and check they are intact afterwards. */
__attribute__((naked)) int regs_survive(uint32_t seed __attribute__((unused))) {
    __asm volatile(
        "push {r4-r11, lr}\n"
        "mov r4, r0\n add r5, r0, #1\n add r6, r0, #2\n add r7, r0, #3\n"
        "add r8, r0, #4\n add r9, r0, #5\n add r10, r0, #6\n add r11, r0, #7\n"
        "ldr r1, =0xE000ED04\n mov r2, #0x10000000\n str r2, [r1]\n dsb\n isb\n"
        "mov r3, #0\n"
        "sub r1, r4, r0\n cmp r1, #0\n it ne\n movne r3, #1\n"
        "sub r1, r5, r0\n cmp r1, #1\n it ne\n movne r3, #1\n"
        "sub r1, r6, r0\n cmp r1, #2\n it ne\n movne r3, #1\n"
        "sub r1, r7, r0\n cmp r1, #3\n it ne\n movne r3, #1\n"
        "sub r1, r8, r0\n cmp r1, #4\n it ne\n movne r3, #1\n"
        "sub r1, r9, r0\n cmp r1, #5\n it ne\n movne r3, #1\n"
        "sub r1, r10, r0\n cmp r1, #6\n it ne\n movne r3, #1\n"
        "sub r1, r11, r0\n cmp r1, #7\n it ne\n movne r3, #1\n"
        "eor r0, r3, #1\n"
        "pop {r4-r11, pc}\n");
}

static void report(void) {
    int alternate = 1;
    for (int i = 0; i < tn; i++) if (trace[i] != (i & 1)) alternate = 0;
    check(tn == 2 * ROUNDS, "both threads ran every round");
    check(alternate, "threads alternate strictly 0,1,0,1...");
    check(regs_ok, "r4-r11 survive context switches");
    check(svc_count == ROUNDS && last_svc == 7, "SVC number read from the stacked PC");
    check(control_seen == 2, "threads run on PSP (CONTROL.SPSEL=1)");
    finish();
}

static void thread0(void) {
    for (int i = 0; i < ROUNDS; i++) {
        trace[tn++] = 0;
        if (i & 1) { if (!regs_survive(0x1000 + i)) regs_ok = 0; }
        else { __asm volatile("svc 7"); }
    }
    for (;;) { SCB_ICSR = ICSR_PENDSVSET; }
}

static void thread1(void) {
    uint32_t c;
    __asm volatile("mrs %0, control" : "=r"(c));
    control_seen = c & 2;
    for (int i = 0; i < ROUNDS; i++) {
        trace[tn++] = 1;
        if (i & 1) { __asm volatile("svc 7"); }
        else { if (!regs_survive(0x2000 + i)) regs_ok = 0; }
    }
    report();
}

static uint32_t *fake_frame(uint32_t *top, void (*entry)(void)) {
    uint32_t *sp = top - 16;
    for (int i = 0; i < 16; i++) sp[i] = 0;
    sp[8 + 5] = 0xFFFFFFFF;               /* lr */
    sp[8 + 6] = (uint32_t)entry & ~1u;    /* pc */
    sp[8 + 7] = 0x01000000;               /* xpsr: Thumb */
    return sp;
}

int main(void) {
    static uint32_t main_psp_area[64] __attribute__((aligned(8)));
    uart_init();
    SCB_SHPR3 = (SCB_SHPR3 & 0xFF00FFFF) | (0xFFu << 16);   /* PendSV lowest */
    sp_saved[0] = fake_frame(stack0 + 256, thread0);
    sp_saved[1] = fake_frame(stack1 + 256, thread1);
    __asm volatile("msr psp, %0\n mov r0, #2\n msr control, r0\n isb" :: "r"(main_psp_area + 64) : "r0");
    SCB_ICSR = ICSR_PENDSVSET;
    for (;;) { }
}
