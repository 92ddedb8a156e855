/* boardemu clean-room RP2040 boot ROM: vectors, header, table lookup, traps, sincos pairs.
   Written for boardemu from the RP2040 datasheet's description of the ROM interface. */
    .syntax unified
    .cpu cortex-m0plus
    .thumb

    .section .vectors, "ax"
    .word 0x20041f00            /* initial SP: just below where boot2 is copied */
    .word rom_reset + 1
    .word rom_hang + 1          /* NMI */
    .word rom_hang + 1          /* HardFault */
    .byte 'M', 'u', 1           /* 0x10: magic */
    .byte 3                     /* 0x13: version (B2) */
    .hword func_table           /* 0x14 */
    .hword data_table           /* 0x16 */
    .hword table_lookup + 1     /* 0x18 */
    .hword 0

    .text
    .thumb_func
    .global table_lookup
/* uint32_t table_lookup(const uint16_t *table, uint32_t code): address for code, 0 if absent */
table_lookup:
1:  ldrh r2, [r0]
    cmp r2, #0
    beq 3f
    cmp r2, r1
    beq 2f
    adds r0, #4
    b 1b
2:  ldrh r0, [r0, #2]
    bx lr
3:  movs r0, #0
    bx lr

    .thumb_func
rom_hang:
    wfi
    b rom_hang

/* flash operations the emulator performs on the board's flash (bkpt traps) */
    .thumb_func
    .global rom_flash_range_erase
rom_flash_range_erase:
    bkpt #0x10
    bx lr
    .thumb_func
    .global rom_flash_range_program
rom_flash_range_program:
    bkpt #0x11
    bx lr
    .thumb_func
    .global rom_reset_usb_boot
rom_reset_usb_boot:
    bkpt #0x12
    b rom_hang
    .thumb_func
    .global rom_no_boot2
rom_no_boot2:
    bkpt #0x13
    b rom_hang

/* enter boot2 at r0 (Thumb) with LR = 0, SP as set by the caller */
    .thumb_func
    .global rom_enter
rom_enter:
    movs r1, #0
    mov lr, r1
    bx r0

/* resume at pc r0 with sp r1 (watchdog scratch boot) */
    .thumb_func
    .global rom_resume
rom_resume:
    mov sp, r1
    bx r0

/* fcmp_fast_flags: compare r0, r1 (floats), set N/Z/C like CMP (unordered: as greater) */
    .thumb_func
    .global sf_fcmp_flags
sf_fcmp_flags:
    push {r0-r3, lr}
    bl sf_fcmp
    cmp r0, #0
    pop {r0-r3, pc}

    .thumb_func
    .global sd_dcmp_flags
sd_dcmp_flags:
    push {r0-r3, lr}
    bl sd_dcmp
    cmp r0, #0
    pop {r0-r3, pc}

/* fsincos: sin in r0, cos in r1 */
    .thumb_func
    .global sf_fsincos
sf_fsincos:
    push {r4, r5, lr}
    mov r4, r0
    bl sf_fsin
    mov r5, r0
    mov r0, r4
    bl sf_fcos
    mov r1, r0
    mov r0, r5
    pop {r4, r5, pc}

/* dsincos: sin in r0:r1, cos in r2:r3 */
    .thumb_func
    .global sd_dsincos
sd_dsincos:
    push {r4, r5, r6, r7, lr}
    mov r4, r0
    mov r5, r1
    bl sd_dsin
    mov r6, r0
    mov r7, r1
    mov r0, r4
    mov r1, r5
    bl sd_dcos
    mov r2, r0
    mov r3, r1
    mov r0, r6
    mov r1, r7
    pop {r4, r5, r6, r7, pc}

/* lookup tables: {u16 code, u16 address} pairs, 0-terminated (Thumb bit set on functions) */
    .section .rodata.tables, "a"
    .balign 4
    .global func_table
func_table:
    .hword 'P' | ('3' << 8), rom_popcount32 + 1
    .hword 'R' | ('3' << 8), rom_reverse32 + 1
    .hword 'L' | ('3' << 8), rom_clz32 + 1
    .hword 'T' | ('3' << 8), rom_ctz32 + 1
    .hword 'M' | ('S' << 8), rom_memset + 1
    .hword 'S' | ('4' << 8), rom_memset4 + 1
    .hword 'M' | ('C' << 8), rom_memcpy + 1
    .hword 'C' | ('4' << 8), rom_memcpy44 + 1
    .hword 'I' | ('F' << 8), rom_connect_internal_flash + 1
    .hword 'E' | ('X' << 8), rom_flash_exit_xip + 1
    .hword 'R' | ('E' << 8), rom_flash_range_erase + 1
    .hword 'R' | ('P' << 8), rom_flash_range_program + 1
    .hword 'F' | ('C' << 8), rom_flash_flush_cache + 1
    .hword 'C' | ('X' << 8), rom_flash_enter_cmd_xip + 1
    .hword 'U' | ('B' << 8), rom_reset_usb_boot + 1
    .hword 'W' | ('V' << 8), rom_wait_for_vector + 1
    .hword 0, 0
    .global data_table
data_table:
    .hword 'S' | ('F' << 8), sf_table
    .hword 'S' | ('D' << 8), sd_table
    .hword 0, 0
