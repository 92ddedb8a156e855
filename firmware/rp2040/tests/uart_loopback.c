/* RP2040 UART (PL011, datasheet 4.2) on the boardemu model: identification registers, reset
 * values, the divisor latch, line timing in loopback, 32-entry FIFOs and their flags, overrun,
 * the RX / RX-timeout / TX interrupts on UART0_IRQ, then UART1 on GP4/GP5 talking to the host:
 * it reads "ping" and a break (test_rp2040_uart.py sends them) and answers "PING". */
#include "lib.h"
#include "rp2040.h"

#define UART_INT_ALL 0x7ffu

static volatile uint32_t irq_count, irq_mis;

void IRQ20_Handler(void) {                      /* UART0_IRQ */
    irq_mis |= UART0->MIS;
    irq_count++;
    UART0->IMSC = 0;                            /* note it once; the test clears and re-arms */
}

static void set_baud(uart_hw_t *u, uint32_t ibrd, uint32_t fbrd) {
    u->IBRD = ibrd;
    u->FBRD = fbrd;
    HW_SET(&u->LCR_H) = 0;                      /* the dummy LCR_H write latches the divisor */
}

static int wait_fr_clear(uart_hw_t *u, uint32_t bit, uint32_t timeout_us) {
    uint32_t t0 = TIMER->TIMERAWL;
    while (u->FR & bit) {
        if (TIMER->TIMERAWL - t0 > timeout_us) return 0;
    }
    return 1;
}

static void drain(uart_hw_t *u) {
    while (!(u->FR & UART_FR_RXFE)) (void)u->DR;
}

int main(void) {
    unreset(RESET_TIMER | RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0 | RESET_UART1);
    uart_hw_t *u = UART0;
    volatile uint32_t *id = (volatile uint32_t *)(UART0_BASE + 0xfe0u);
    check_eq(id[0] | id[1] << 8 | id[2] << 16 | id[3] << 24, 0x00341011u, "PeriphID0-3");
    check_eq(id[4] | id[5] << 8 | id[6] << 16 | id[7] << 24, 0xb105f00du, "PCellID0-3");
    check_eq(u->FR, UART_FR_TXFE | UART_FR_RXFE, "FR after reset");
    check_eq(u->CR, UART_CR_TXE | UART_CR_RXE, "CR after reset");
    check_eq(u->IFLS, 0x12u, "IFLS after reset");

    /* 115200 baud from 125 MHz: 125e6 / (16 * 115200) = 67.817 -> IBRD 67, FBRD 52; 8N1, FIFOs */
    set_baud(u, 67, 52);
    u->LCR_H = UART_LCR_H_WLEN_8 | UART_LCR_H_FEN;
    u->CR = UART_CR_UARTEN | UART_CR_TXE | UART_CR_RXE | UART_CR_LBE;
    uint32_t t0 = TIMER->TIMERAWL;
    u->DR = 0x5a;
    check(u->FR & UART_FR_BUSY, "BUSY while sending");
    check(wait_fr_clear(u, UART_FR_RXFE, 1000), "loopback byte arrives");
    uint32_t dt = TIMER->TIMERAWL - t0;
    info("char time us", dt);
    check(dt >= 86 && dt <= 88, "10 bits at 115200 baud take 86.8 us");
    check_eq(u->DR, 0x5a, "loopback data");
    check_eq(u->FR & (UART_FR_BUSY | UART_FR_TXFE | UART_FR_RXFE), UART_FR_TXFE | UART_FR_RXFE, "idle again");

    /* FIFO depth: 32 bytes fit while the transmitter is off, the 33rd is lost */
    HW_CLR(&u->CR) = UART_CR_TXE;
    for (uint32_t i = 0; i < 33; i++) u->DR = 0x40 + i;
    check(u->FR & UART_FR_TXFF, "TX FIFO full after 32");
    HW_SET(&u->CR) = UART_CR_TXE;
    t0 = TIMER->TIMERAWL;
    check(wait_fr_clear(u, UART_FR_BUSY, 10000), "32 bytes sent");
    dt = TIMER->TIMERAWL - t0;
    check(dt >= 32 * 86 && dt <= 32 * 87 + 2, "32 characters back to back");
    check(u->FR & UART_FR_RXFF, "RX FIFO full");
    uint32_t ok = 1;
    for (uint32_t i = 0; i < 32; i++) ok &= (u->DR == 0x40 + i);
    check(ok, "32 bytes in order");
    check(u->FR & UART_FR_RXFE, "RX FIFO empty after 32 reads");

    /* overrun: 33 characters into a full RX FIFO */
    for (uint32_t i = 0; i < 32; i++) u->DR = i;
    check(wait_fr_clear(u, UART_FR_BUSY, 10000), "sent");
    u->DR = 0xee;
    check(wait_fr_clear(u, UART_FR_BUSY, 1000), "sent");
    check(u->RIS & UART_INT_OE, "RIS.OE on overrun");
    check_eq(u->RSR & 8u, 8u, "RSR.OE");
    u->RSR = 0;
    check_eq(u->RSR, 0u, "ECR write clears RSR");
    drain(u);
    u->ICR = UART_INT_ALL;
    check_eq(u->RIS & ~UART_INT_TX, 0u, "ICR clears");

    /* FIFO off: depth 1 */
    HW_CLR(&u->LCR_H) = UART_LCR_H_FEN;
    set_baud(u, 67, 52);
    HW_CLR(&u->CR) = UART_CR_TXE;
    u->DR = 1;
    check(u->FR & UART_FR_TXFF, "FIFO off: TXFF after one byte");
    HW_SET(&u->CR) = UART_CR_TXE;
    check(wait_fr_clear(u, UART_FR_BUSY, 1000), "sent");
    check(u->FR & UART_FR_RXFF, "FIFO off: RXFF after one byte");
    check(u->RIS & UART_INT_RX, "FIFO off: RX interrupt on one byte");
    (void)u->DR;
    check(!(u->RIS & UART_INT_RX), "FIFO off: RX cleared by the read");
    HW_SET(&u->LCR_H) = UART_LCR_H_FEN;
    u->ICR = UART_INT_ALL;

    /* RX interrupt at 1/8 (4 bytes), RX timeout after 32 bit periods */
    u->IFLS = 0;
    irq_enable(UART0_IRQ);
    irq_count = 0; irq_mis = 0;
    u->IMSC = UART_INT_RX | UART_INT_RT;
    for (uint32_t i = 0; i < 3; i++) u->DR = i;
    check(wait_fr_clear(u, UART_FR_BUSY, 1000), "3 sent");
    check_eq(irq_count, 0u, "3 bytes: no RX interrupt yet");
    delay_us(32 * 9 + 5);
    check_eq(irq_count, 1u, "RX timeout interrupt");
    check_eq(irq_mis, UART_INT_RT, "MIS = RT");
    drain(u);
    check(!(u->RIS & UART_INT_RT), "RT cleared when the FIFO empties");
    irq_count = 0; irq_mis = 0;
    u->IMSC = UART_INT_RX;
    for (uint32_t i = 0; i < 4; i++) u->DR = i;
    check(wait_fr_clear(u, UART_FR_BUSY, 1000), "4 sent");
    check_eq(irq_count, 1u, "4 bytes: RX interrupt");
    check_eq(irq_mis, UART_INT_RX, "MIS = RX");
    (void)u->DR;
    check(!(u->RIS & UART_INT_RX), "RX cleared below the level");
    drain(u);

    /* TX interrupt: the FIFO drains from above 1/8 (4) to 4 */
    u->ICR = UART_INT_ALL;
    irq_count = 0; irq_mis = 0;
    HW_CLR(&u->CR) = UART_CR_TXE;
    for (uint32_t i = 0; i < 8; i++) u->DR = i;
    u->IMSC = UART_INT_TX;
    check_eq(irq_count, 0u, "no TX interrupt before data leaves");
    HW_SET(&u->CR) = UART_CR_TXE;
    t0 = TIMER->TIMERAWL;
    while (!irq_count && TIMER->TIMERAWL - t0 < 2000) { }
    dt = TIMER->TIMERAWL - t0;
    check_eq(irq_mis, UART_INT_TX, "TX interrupt");
    check(dt >= 3 * 86 && dt <= 3 * 87 + 2, "TX interrupt when the 4th byte goes to the shift register");
    check(wait_fr_clear(u, UART_FR_BUSY, 2000), "8 sent");
    drain(u);
    NVIC_ICER = 1u << UART0_IRQ;
    u->CR = 0;

    /* UART1 on GP4 (TX) / GP5 (RX), 115200 8N1: the host sent "ping" and then a break */
    uart_hw_t *v = UART1;
    IO_BANK0->GPIO[4].CTRL = GPIO_FUNC_UART;
    IO_BANK0->GPIO[5].CTRL = GPIO_FUNC_UART;
    set_baud(v, 67, 52);
    v->LCR_H = UART_LCR_H_WLEN_8 | UART_LCR_H_FEN;
    v->CR = UART_CR_UARTEN | UART_CR_TXE | UART_CR_RXE;
    char got[5];
    uint32_t n = 0;
    t0 = TIMER->TIMERAWL;
    uint32_t brk = 0;
    while (n < 5 && TIMER->TIMERAWL - t0 < 5000) {
        if (!(v->FR & UART_FR_RXFE)) {
            uint32_t d = v->DR;
            if (n < 4) got[n] = (char)d;
            else brk = d;
            n++;
        }
    }
    check_eq(n, 5u, "UART1: 4 bytes and a break from the host");
    check(got[0] == 'p' && got[1] == 'i' && got[2] == 'n' && got[3] == 'g', "UART1: ping");
    check_eq(brk, 0x500u, "break: data 0 with BE and FE");
    check_eq(v->RSR, 5u, "RSR: BE and FE");
    check_eq(v->RIS & (UART_INT_BE | UART_INT_FE), UART_INT_BE | UART_INT_FE, "RIS: BE and FE");
    for (uint32_t i = 0; i < 4; i++) v->DR = (uint32_t)got[i] - 32u;
    check(wait_fr_clear(v, UART_FR_BUSY, 1000), "UART1: PING sent");
    finish();
}
