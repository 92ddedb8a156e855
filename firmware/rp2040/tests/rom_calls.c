/* Runs boot ROM functions on job blocks a host test writes into RAM (tests/test_rp2040_rom.py).
 *
 * The host writes `jobs` (terminated by kind 0) and input records into `area`, sets
 * `mailbox.go`, and runs the board until `mailbox.done` changes; then it reads the output
 * records. Functions are found through the ROM's own table_lookup, as the pico-sdk does
 * (rom_func_lookup / rom_data_lookup + slot). Every call also checks that the ROM function kept
 * r4-r11 and sp (AAPCS).
 *
 * Everything the host touches is in .noinit: startup code leaves it alone, so the host can write
 * it before the first instruction runs and it survives a watchdog reboot. */
#include "lib.h"
#include "rp2040.h"

enum {
    JOB_END = 0,
    JOB_CALL = 1,           /* count calls: in records of in_words words -> r0..r3; outputs by mask */
    JOB_LOOKUP_FUNC = 2,    /* in: count u32 codes -> out: addresses from the function table */
    JOB_LOOKUP_DATA = 3,    /* same with the data table */
    JOB_WATCHDOG_BOOT = 4,  /* in: SCRATCH4..7 values; trigger a watchdog reset */
    JOB_CALL_ADDR = 5,      /* as JOB_CALL, the function at address `code` (Thumb bit set) */
};
#define OUT_FLAGS (1u << 4)         /* out_mask: APSR after the call (N Z C V in bits 31..28) */
#define OUT_SAVED (1u << 5)         /* out_mask: 0 if r4-r11 and sp were kept, else 1 */
#define OUT_CYCLES (1u << 6)        /* out_mask: SysTick cycles around the call (with overhead) */

struct job {
    uint32_t kind;
    uint32_t table;         /* JOB_CALL: 0 = function table, code = its code; else a data table
                               code ('S' | 'F' << 8) and code = byte offset of the slot */
    uint32_t code;
    uint32_t count;
    uint32_t in;            /* address of the input records */
    uint32_t in_words;      /* words per input record (0..4) */
    uint32_t out;           /* address of the output records */
    uint32_t out_mask;      /* bits 0..3: r0..r3, OUT_*: stored in bit order */
    uint32_t fn;            /* written back: the function address used (0: lookup failed) */
};

#define MAX_JOBS 64
#define AREA_BYTES (200u * 1024u)

struct mailbox {
    volatile uint32_t go;   /* host: 1 = run the jobs; the program clears it */
    volatile uint32_t done; /* program: incremented after each batch */
    volatile uint32_t boots;        /* program: incremented in main */
    volatile uint32_t scratch[4];   /* program: WATCHDOG SCRATCH4..7 as main found them */
    volatile uint32_t wd_entered;   /* watchdog vector: number of entries */
    volatile uint32_t wd_sp;        /* watchdog vector: its stack pointer */
    volatile uint32_t vector_exit;  /* program: address of wd_vector_exit (Thumb bit set) */
    volatile uint32_t vector_return;        /* program: address of wd_vector_return */
};

__attribute__((section(".noinit"))) struct mailbox mailbox;
__attribute__((section(".noinit"))) struct job jobs[MAX_JOBS];
__attribute__((section(".noinit"), aligned(8))) uint8_t area[AREA_BYTES];

/* r0..r3 from in[0..3], call fn, res[0..3] = r0..r3, res[4] = APSR, res[5] = 0 if r4-r11 and
 * sp came back unchanged. */
void call_rom(uint32_t fn, const uint32_t *in, uint32_t *res);
__asm__(
        ".syntax unified\n"
        ".section .text.call_rom, \"ax\"\n"
        ".global call_rom\n"
        ".type call_rom, %function\n"
        ".thumb_func\n"
        "call_rom:\n"
        "push {r4, r5, r6, r7, lr}\n"
        "mov r3, r8\n mov r4, r9\n mov r5, r10\n mov r6, r11\n"
        "push {r2, r3, r4, r5, r6}\n"          /* res, caller's r8..r11 */
        "ldr r4, =0x4a4a4a4a\n mov r8, r4\n"     /* canaries in r4..r10 */
        "ldr r4, =0x59595959\n mov r9, r4\n"
        "ldr r4, =0x6b6b6b6b\n mov r10, r4\n"
        "mov r4, sp\n mov r11, r4\n"             /* sp before the call */
        "mov ip, r0\n"
        "ldr r0, [r1]\n ldr r2, [r1, #8]\n ldr r3, [r1, #12]\n ldr r1, [r1, #4]\n"
        "ldr r4, =0x14141414\n ldr r5, =0x25252525\n ldr r6, =0x36363636\n ldr r7, =0x47474747\n"
        "blx ip\n"
        "mrs ip, apsr\n"
        "push {r0, r1, r2, r3}\n"
        "movs r0, #0\n"
        "ldr r1, =0x14141414\n cmp r4, r1\n beq 1f\n adds r0, #1\n1:\n"
        "ldr r1, =0x25252525\n cmp r5, r1\n beq 1f\n adds r0, #1\n1:\n"
        "ldr r1, =0x36363636\n cmp r6, r1\n beq 1f\n adds r0, #1\n1:\n"
        "ldr r1, =0x47474747\n cmp r7, r1\n beq 1f\n adds r0, #1\n1:\n"
        "ldr r1, =0x4a4a4a4a\n cmp r8, r1\n beq 1f\n adds r0, #1\n1:\n"
        "ldr r1, =0x59595959\n cmp r9, r1\n beq 1f\n adds r0, #1\n1:\n"
        "ldr r1, =0x6b6b6b6b\n cmp r10, r1\n beq 1f\n adds r0, #1\n1:\n"
        "mov r1, sp\n adds r1, #16\n cmp r11, r1\n beq 1f\n adds r0, #1\n1:\n"
        "mov r4, r0\n"
        "pop {r0, r1, r2, r3}\n"
        "ldr r5, [sp]\n"                       /* res */
        "stmia r5!, {r0, r1, r2, r3}\n"
        "mov r0, ip\n"
        "stmia r5!, {r0, r4}\n"
        "pop {r2, r3, r4, r5, r6}\n"
        "mov r8, r3\n mov r9, r4\n mov r10, r5\n mov r11, r6\n"
        "pop {r4, r5, r6, r7, pc}\n"
        ".ltorg\n");

static uint32_t resolve(const struct job *j) {
    if (j->kind == JOB_CALL_ADDR)
        return j->code;
    if (!j->table)
        return (uint32_t)(uintptr_t)rom_func_lookup(j->code);
    const uint32_t *t = rom_data_lookup(j->table);
    return t ? t[j->code / 4] : 0;
}

static void run_call(struct job *j) {
    uint32_t fn = resolve(j);
    const uint32_t *in = (const uint32_t *)(uintptr_t)j->in;
    uint32_t *out = (uint32_t *)(uintptr_t)j->out;
    uint32_t args[4] = { 0, 0, 0, 0 }, res[7];
    j->fn = fn;
    if (!fn) return;
    for (uint32_t i = 0; i < j->count; i++) {
        for (uint32_t k = 0; k < j->in_words; k++) args[k] = *in++;
        uint32_t t0 = SYST_CVR;
        call_rom(fn, args, res);
        res[6] = (t0 - SYST_CVR) & 0xffffffu;
        for (uint32_t k = 0; k < 7; k++)
            if (j->out_mask & (1u << k)) *out++ = res[k];
    }
}

static void run_lookup(struct job *j, int data) {
    const uint32_t *in = (const uint32_t *)(uintptr_t)j->in;
    uint32_t *out = (uint32_t *)(uintptr_t)j->out;
    for (uint32_t i = 0; i < j->count; i++)
        out[i] = (uint32_t)(uintptr_t)(data ? rom_data_lookup(in[i]) : rom_func_lookup(in[i]));
    j->fn = 1;
}

/* The ROM calls these instead of booting flash when the watchdog scratch registers ask for it
 * (the host puts their address in SCRATCH7 and the stack pointer in SCRATCH6). Both record sp
 * on entry; wd_vector_exit exits with status 0x42, wd_vector_return returns to the ROM, which
 * then boots flash as usual. */
void wd_vector_exit(void);
void wd_vector_return(void);
__asm__(
        ".syntax unified\n"
        ".section .text.wd_vector, \"ax\"\n"
        ".global wd_vector_exit\n"
        ".type wd_vector_exit, %function\n"
        ".thumb_func\n"
        "wd_vector_exit:\n"
        "mov r0, sp\n ldr r1, =mailbox\n str r0, [r1, #32]\n"
        "ldr r0, [r1, #28]\n adds r0, #1\n str r0, [r1, #28]\n"
        "movs r0, #0x42\n bl sh_exit\n"
        ".global wd_vector_return\n"
        ".type wd_vector_return, %function\n"
        ".thumb_func\n"
        "wd_vector_return:\n"
        "mov r0, sp\n ldr r1, =mailbox\n str r0, [r1, #32]\n"
        "ldr r0, [r1, #28]\n adds r0, #1\n str r0, [r1, #28]\n"
        "bx lr\n"
        ".ltorg\n");

static void watchdog_boot(const struct job *j) {
    const uint32_t *in = (const uint32_t *)(uintptr_t)j->in;
    for (int k = 0; k < 4; k++) WATCHDOG->SCRATCH[4 + k] = in[k];
    mailbox.go = 0;
    mailbox.done++;
    WATCHDOG->CTRL = WATCHDOG_CTRL_TRIGGER;
    for (;;) { }
}

int main(void) {
    for (int k = 0; k < 4; k++) mailbox.scratch[k] = WATCHDOG->SCRATCH[4 + k];
    mailbox.vector_exit = (uint32_t)(uintptr_t)wd_vector_exit;
    mailbox.vector_return = (uint32_t)(uintptr_t)wd_vector_return;
    mailbox.boots++;
    SYST_RVR = 0xffffffu;                   /* SysTick on the processor clock, free running */
    SYST_CVR = 0;
    SYST_CSR = 5;
    for (;;) {
        while (!mailbox.go) { }
        for (struct job *j = jobs; j < jobs + MAX_JOBS && j->kind != JOB_END; j++) {
            switch (j->kind) {
            case JOB_CALL: case JOB_CALL_ADDR: run_call(j); break;
            case JOB_LOOKUP_FUNC: run_lookup(j, 0); break;
            case JOB_LOOKUP_DATA: run_lookup(j, 1); break;
            case JOB_WATCHDOG_BOOT: watchdog_boot(j); break;
            default: j->fn = 0; break;
            }
        }
        mailbox.go = 0;
        mailbox.done++;
    }
}
