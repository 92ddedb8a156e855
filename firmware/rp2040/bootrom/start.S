/* boardemu clean-room RP2040 boot ROM: vectors, header, lookup tables, table_lookup, memory
 * routines, the flash traps into the emulator, reset glue and the register-shape wrappers of the
 * float tables. Written for boardemu from the RP2040 datasheet's description of the ROM
 * interface (section 2.8) and the pico-sdk's use of it; no code from Raspberry Pi's ROM.
 *
 * Calling convention: AAPCS (r0-r3, r12 and the flags may change; r4-r11 and sp are kept). */
    .syntax unified
    .cpu cortex-m0plus
    .thumb

#define ROM_STACK_TOP 0x20041f00    /* just below the boot2 copy (0x20041f00..0x20042000) */
#define BOOT2_COPY    0x20041f00
#define SIO_CPUID     0xd0000000

    .section .vectors, "ax"
    .word ROM_STACK_TOP         /* 0x00: initial SP */
    .word rom_reset + 1         /* 0x04: reset */
    .word rom_hang + 1          /* 0x08: NMI */
    .word rom_hang + 1          /* 0x0c: HardFault */
    .byte 'M', 'u', 1           /* 0x10: magic */
    .byte 3                     /* 0x13: ROM version 3 (RP2040-B2) */
    .hword func_table           /* 0x14: function table */
    .hword data_table           /* 0x16: data table */
    .hword table_lookup + 1     /* 0x18: table_lookup(table, code) */
    .hword 0

/* ---- table lookup ---------------------------------------------------------------------- */
/* uint32_t table_lookup(const uint16_t *table, uint32_t code): the address stored for `code`
 * in a table of {u16 code, u16 address} pairs ending with code 0; 0 when absent. */
    .text
    .thumb_func
    .global table_lookup
table_lookup:
    ldrh r2, [r0]
    adds r0, #4
    cmp r2, r1
    beq 1f
    cmp r2, #0
    bne table_lookup
    movs r0, #0
    bx lr
1:  subs r0, #2
    ldrh r0, [r0]
    bx lr

    .thumb_func
rom_hang:
    wfi
    b rom_hang

/* ---- reset --------------------------------------------------------------------------------
 * Core 1 parks as in wait_for_vector. Core 0: a prepared watchdog vector (SCRATCH4..7, see
 * rom_watchdog_vector in rom.c) is called with MSP = SCRATCH6; if it returns, or there is none,
 * the first 256 bytes of flash (boot2) are copied to SRAM 0x20041f00, their CRC checked, and
 * boot2 is entered with LR = 0 (it then starts the application from its vector table). */
    .thumb_func
    .global rom_reset
rom_reset:
    ldr r0, =SIO_CPUID
    ldr r0, [r0]
    cmp r0, #0
    bne rom_wait_for_vector
    bl rom_watchdog_vector      /* r0 = entry (0: none), r1 = stack pointer */
    cmp r0, #0
    beq 1f
    msr msp, r1
    blx r0
    ldr r0, =ROM_STACK_TOP      /* it returned: continue with the normal boot on our stack */
    msr msp, r0
1:  bl rom_load_boot2           /* r0 = 1 when the CRC is good */
    cmp r0, #0
    bne 2f
    bkpt #0x13                  /* emulator: no bootable image (halts the board) */
    b rom_hang
2:  ldr r0, =BOOT2_COPY + 1
    movs r1, #0
    mov lr, r1
    bx r0

/* void wait_for_vector(void): where core 1 waits to be launched. Only core 0 is emulated, so
 * this just sleeps. */
    .thumb_func
    .global rom_wait_for_vector
rom_wait_for_vector:
    wfe
    b rom_wait_for_vector

/* ---- flash functions the emulator performs on the board's flash (bkpt traps) -------------- */
    .thumb_func
    .global rom_flash_range_erase
rom_flash_range_erase:          /* (offs, count, block_size, block_cmd) */
    bkpt #0x10
    bx lr

    .thumb_func
    .global rom_flash_range_program
rom_flash_range_program:        /* (offs, data, count) */
    bkpt #0x11
    bx lr

    .thumb_func
    .global rom_reset_usb_boot
rom_reset_usb_boot:             /* (gpio_activity_pin_mask, disable_interface_mask) */
    bkpt #0x12
    b rom_hang

/* ---- memory ---------------------------------------------------------------------------------
 * uint8_t *memcpy(uint8_t *dest, const uint8_t *src, uint32_t n)      returns dest
 * uint32_t *memcpy44(uint32_t *dest, const uint32_t *src, uint32_t n) both word aligned
 * Same relative alignment: bytes up to a word boundary, then 16-byte ldm/stm blocks, words,
 * tail bytes. Otherwise bytes, 4 per loop. Copies under 4 bytes go straight to the byte loop. */
    .thumb_func
    .global rom_memcpy
    .global rom_memcpy44
rom_memcpy:
rom_memcpy44:
    mov ip, r0
    cmp r2, #4
    blo .Lcpy_tail
    movs r3, r0
    orrs r3, r1
    lsls r3, #30
    beq .Lcpy_aligned           /* both word aligned (the common case) */
    movs r3, r0
    eors r3, r1
    lsls r3, #30
    bne .Lcpy_bytes4            /* different alignment: bytes */
.Lcpy_head:                     /* same alignment: bytes until dest is aligned */
    ldrb r3, [r1]
    strb r3, [r0]
    adds r1, #1
    adds r0, #1
    subs r2, #1
    lsls r3, r0, #30
    bne .Lcpy_head
.Lcpy_aligned:
    subs r2, #16
    blo .Lcpy_words
    push {r4, r5, r6}
1:  ldmia r1!, {r3, r4, r5, r6}
    stmia r0!, {r3, r4, r5, r6}
    subs r2, #16
    bhs 1b
    pop {r4, r5, r6}
.Lcpy_words:
    adds r2, #12                /* r2 = bytes left - 4 */
    blo 3f
2:  ldmia r1!, {r3}
    stmia r0!, {r3}
    subs r2, #4
    bhs 2b
3:  adds r2, #4
    b .Lcpy_tail
.Lcpy_bytes4:                   /* n >= 4 here */
    subs r2, #4
4:  ldrb r3, [r1]
    strb r3, [r0]
    ldrb r3, [r1, #1]
    strb r3, [r0, #1]
    ldrb r3, [r1, #2]
    strb r3, [r0, #2]
    ldrb r3, [r1, #3]
    strb r3, [r0, #3]
    adds r1, #4
    adds r0, #4
    subs r2, #4
    bhs 4b
    adds r2, #4
.Lcpy_tail:
    cmp r2, #0
    beq 6f
5:  ldrb r3, [r1]
    strb r3, [r0]
    adds r1, #1
    adds r0, #1
    subs r2, #1
    bne 5b
6:  mov r0, ip
    bx lr

/* uint8_t *memset(uint8_t *ptr, uint8_t c, uint32_t n)     returns ptr
 * uint32_t *memset4(uint32_t *ptr, uint8_t c, uint32_t n)  ptr word aligned; returns ptr */
    .thumb_func
    .global rom_memset
    .global rom_memset4
rom_memset:
rom_memset4:
    mov ip, r0
    lsls r1, #24
    lsrs r1, #24
    cmp r2, #4
    blo .Lset_tail
    lsls r3, r1, #8
    orrs r1, r3
    lsls r3, r1, #16
    orrs r1, r3                 /* c in every byte */
    lsls r3, r0, #30
    beq .Lset_aligned
.Lset_head:
    strb r1, [r0]
    adds r0, #1
    subs r2, #1
    lsls r3, r0, #30
    bne .Lset_head
.Lset_aligned:
    subs r2, #16
    blo 2f
    push {r4, r5}
    movs r3, r1
    movs r4, r1
    movs r5, r1
1:  stmia r0!, {r1, r3, r4, r5}
    subs r2, #16
    bhs 1b
    pop {r4, r5}
2:  adds r2, #12
    blo 4f
3:  stmia r0!, {r1}
    subs r2, #4
    bhs 3b
4:  adds r2, #4
.Lset_tail:
    cmp r2, #0
    beq 6f
5:  strb r1, [r0]
    adds r0, #1
    subs r2, #1
    bne 5b
6:  mov r0, ip
    bx lr

/* ---- float table wrappers whose register shapes C cannot express --------------------------- */

/* fcmp_fast_flags / dcmp_fast_flags: r0 = -1/0/1 as fcmp, and the flags of `cmp r0, #0`
 * (so beq/bne/blt/bge/bgt/ble follow the comparison; unordered reads as greater). r1-r3 kept. */
    .thumb_func
    .global sf_fcmp_flags
sf_fcmp_flags:
    push {r1, r2, r3, lr}
    bl sf_fcmp
    cmp r0, #0
    pop {r1, r2, r3, pc}

    .thumb_func
    .global sd_dcmp_flags
sd_dcmp_flags:
    push {r1, r2, r3, lr}
    bl sd_dcmp
    cmp r0, #0
    pop {r1, r2, r3, pc}

/* dsincos: sin(x) in r0:r1, cos(x) in r2:r3 (ROM v3 slot 0x48 of the double table) */
    .thumb_func
    .global sd_dsincos
sd_dsincos:
    push {r4, lr}
    sub sp, #16
    mov r2, sp
    bl sd_sincos_to             /* void sd_sincos_to(double x, double out[2]) */
    pop {r0, r1, r2, r3}
    pop {r4, pc}

    .ltorg

/* ---- lookup tables: {u16 code, u16 address} pairs, 0-terminated; Thumb bit on functions ---- */
    .section .rodata.tables, "a"
    .balign 4
    .global func_table
func_table:
    .byte 'P', '3'
    .hword rom_popcount32 + 1
    .byte 'R', '3'
    .hword rom_reverse32 + 1
    .byte 'L', '3'
    .hword rom_clz32 + 1
    .byte 'T', '3'
    .hword rom_ctz32 + 1
    .byte 'M', 'S'
    .hword rom_memset + 1
    .byte 'S', '4'
    .hword rom_memset4 + 1
    .byte 'M', 'C'
    .hword rom_memcpy + 1
    .byte 'C', '4'
    .hword rom_memcpy44 + 1
    .byte 'U', 'B'
    .hword rom_reset_usb_boot + 1
    .byte 'W', 'V'
    .hword rom_wait_for_vector + 1
    .byte 'I', 'F'
    .hword rom_connect_internal_flash + 1
    .byte 'E', 'X'
    .hword rom_flash_exit_xip + 1
    .byte 'R', 'E'
    .hword rom_flash_range_erase + 1
    .byte 'R', 'P'
    .hword rom_flash_range_program + 1
    .byte 'F', 'C'
    .hword rom_flash_flush_cache + 1
    .byte 'C', 'X'
    .hword rom_flash_enter_cmd_xip + 1
    .hword 0, 0

    .global data_table
data_table:
    .byte 'G', 'R'
    .hword rom_git_revision     /* u32 */
    .byte 'C', 'R'
    .hword rom_copyright        /* NUL-terminated string */
    .byte 'S', 'F'
    .hword sf_table
    .byte 'S', 'D'
    .hword sd_table
    .byte 'F', 'Z'
    .hword float_table_size     /* u8: entries in SF (and SD) */
    .hword 0, 0

    .balign 4
    .global rom_git_revision
rom_git_revision:
    .word 0x00000000            /* not built from Raspberry Pi's sources: no revision */
rom_copyright:
    .asciz "boardemu clean-room RP2040 boot ROM"

/* The float tables (pico-sdk slot order, pico/bootrom/sf_table.h; the double table uses the
 * same slots for doubles); add, sub, mul, div and the float<->double conversions are libgcc's
 * IEEE routines. The pico-sdk checks (in debug builds) that the byte two before the
 * SF table holds its number of entries. */
    .section .rodata.float_tables, "a"
    .balign 4
    .hword 0
float_table_size:
    .byte 32, 0
    .global sf_table
sf_table:
    .word __aeabi_fadd, __aeabi_fsub, __aeabi_fmul, __aeabi_fdiv        /* 0x00 */
    .word sf_fcmp, sf_fcmp_flags, sf_fsqrt, sf_float2int                /* 0x10 */
    .word sf_float2fix, sf_float2uint, sf_float2ufix, sf_int2float      /* 0x20 */
    .word sf_fix2float, sf_uint2float, sf_ufix2float, sf_fcos           /* 0x30 */
    .word sf_fsincos, sf_ftan, sf_fsincos, sf_fexp                      /* 0x40: fsin also gives cos in r1 */
    .word sf_fln, sf_fcmp, sf_fatan2, sf_int642float                    /* 0x50 */
    .word sf_fix642float, sf_uint642float, sf_ufix642float, sf_float2int64   /* 0x60 */
    .word sf_float2fix64, sf_float2uint64, sf_float2ufix64, __aeabi_f2d      /* 0x70 */
    .global sd_table
sd_table:
    .word __aeabi_dadd, __aeabi_dsub, __aeabi_dmul, __aeabi_ddiv        /* 0x00 */
    .word sd_dcmp, sd_dcmp_flags, sd_dsqrt, sd_double2int               /* 0x10 */
    .word sd_double2fix, sd_double2uint, sd_double2ufix, sd_int2double  /* 0x20 */
    .word sd_fix2double, sd_uint2double, sd_ufix2double, sd_dcos        /* 0x30 */
    .word sd_dsin, sd_dtan, sd_dsincos, sd_dexp                         /* 0x40 */
    .word sd_dln, sd_dcmp, sd_datan2, sd_int642double                   /* 0x50 */
    .word sd_fix642double, sd_uint642double, sd_ufix642double, sd_double2int64   /* 0x60 */
    .word sd_double2fix64, sd_double2uint64, sd_double2ufix64, __aeabi_d2f      /* 0x70 */
