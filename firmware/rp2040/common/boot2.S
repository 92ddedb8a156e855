/* boardemu RP2040 second-stage boot (boot2): the first 256 bytes of flash. The boot ROM copies
 * them to SRAM 0x20041F00, checks the CRC32 in the last 4 bytes and enters at 0x20041F01 with
 * LR = 0. Written for boardemu from the RP2040 datasheet (2.8.1 "Processor controlled boot
 * sequence"); not Raspberry Pi's boot2.
 *
 * A real boot2 programs the SSI for fast XIP reads first; the emulator maps flash directly, so
 * this one only hands over to the application: VTOR = 0x10000100, MSP = [0x10000100],
 * PC = [0x10000104]. Called with LR != 0 (as the pico-sdk re-runs boot2 after flash
 * operations) it just returns. Position-independent: it runs from SRAM.
 * tools/boot2_crc.py pads the assembled code to 252 bytes and appends the CRC. */
    .syntax unified
    .cpu cortex-m0plus
    .thumb
    .section .text.boot2, "ax"
    .global boot2_entry
    .thumb_func
boot2_entry:
    mov r0, lr
    cmp r0, #0
    bne 1f
    ldr r0, =0x10000100         /* the application's vector table */
    ldr r1, =0xe000ed08         /* PPB VTOR */
    str r0, [r1]
    ldmia r0, {r0, r1}          /* initial MSP, reset vector */
    msr msp, r0
    bx r1
1:  bx lr
    .ltorg
