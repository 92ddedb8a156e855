/* SIO (datasheet 2.3.1) with IO_BANK0 and PADS_BANK0: CPUID; GPIO_OUT/GPIO_OE and their SET,
 * CLR and XOR registers; GPIO_IN seeing the chip's own outputs, pulls, input enable, pins the
 * host drives; IO_BANK0 STATUS, overrides and edge interrupts; the hardware divider, signed and
 * unsigned, against libgcc's division on many operands (division by zero and INT_MIN / -1 with
 * the datasheet's results), CSR READY/DIRTY, save/restore by writing the operands and then
 * QUOTIENT/REMAINDER; spinlocks; the inter-core FIFO status with core 1 not running.
 *
 * Pins left for tests/test_rp2040_periph.py to see: GP25 (LED) high, GP6 driven with the
 * sequence 1 0 1 0 1, GP3 driven low, GP4 undriven with its pull-up. When the host has written
 * host_cfg (magic, flags) it also drives GP10 high and GP11 low before the program starts. */
#include "lib.h"
#include "rp2040.h"

#define HOST_MAGIC 0x4057c0deu
struct host_cfg { uint32_t magic, flags; };
__attribute__((section(".noinit"), used)) volatile struct host_cfg host_cfg;

static void gpio_sio(unsigned pin) { IO_BANK0->GPIO[pin].CTRL = GPIO_FUNC_SIO; }

static void test_cpuid(void) {
    check_eq(SIO->CPUID, 0, "CPUID = 0 on core 0");
}

static void test_gpio(void) {
    unreset(RESET_IO_BANK0 | RESET_PADS_BANK0);
    check_eq(IO_BANK0->GPIO[2].CTRL & 0x1f, GPIO_FUNC_NULL, "FUNCSEL reset value NULL (0x1f)");
    check_eq(PADS_BANK0->GPIO[2], 0x56, "pad reset: IE, 4 mA, pull-down, Schmitt");
    for (unsigned p = 2; p <= 6; p++) gpio_sio(p);
    gpio_sio(25);
    const uint32_t m = 0x3cu;                              /* GP2..GP5 */

    SIO->GPIO_OUT = 0;
    SIO->GPIO_OE = 0;
    check_eq(SIO->GPIO_IN & m, 0, "GPIO_IN: undriven pins with pull-downs read 0");
    SIO->GPIO_OUT_SET = 1u << 2 | 1u << 3;
    check_eq(SIO->GPIO_OUT & m, 0x0c, "GPIO_OUT_SET sets bits");
    check_eq(SIO->GPIO_IN & m, 0, "output value without OE does not reach the pins");
    SIO->GPIO_OE_SET = m;
    check_eq(SIO->GPIO_OE & m, m, "GPIO_OE_SET sets bits");
    check_eq(SIO->GPIO_IN & m, 0x0c, "GPIO_IN reflects the driven outputs");
    SIO->GPIO_OUT_CLR = 1u << 2;
    check_eq(SIO->GPIO_OUT & m, 0x08, "GPIO_OUT_CLR clears bits");
    SIO->GPIO_OUT_XOR = 1u << 3 | 1u << 4 | 1u << 5;
    check_eq(SIO->GPIO_OUT & m, 0x30, "GPIO_OUT_XOR toggles bits");
    check_eq(SIO->GPIO_IN & m, 0x30, "GPIO_IN follows the XOR");
    SIO->GPIO_OE_XOR = 1u << 5;
    check_eq(SIO->GPIO_OE & m, 0x1c, "GPIO_OE_XOR toggles bits");
    check_eq(SIO->GPIO_IN & m, 0x10, "pin 5 released: its pull-down wins");
    SIO->GPIO_OE_CLR = m;
    check_eq(SIO->GPIO_OE & m, 0, "GPIO_OE_CLR clears bits");
    SIO->GPIO_OUT = 0xffffffffu;
    check_eq(SIO->GPIO_OUT, 0x3fffffffu, "GPIO_OUT has 30 bits");
    SIO->GPIO_OUT = 0;

    /* pulls and input enable (PADS_BANK0) */
    PADS_BANK0->GPIO[4] = PADS_IE | PADS_PUE;
    check_eq(SIO->GPIO_IN & (1u << 4), 1u << 4, "pull-up: undriven pin reads 1");
    PADS_BANK0->GPIO[4] = PADS_PUE;
    check_eq(SIO->GPIO_IN & (1u << 4), 0, "input disabled (IE 0): reads 0");
    PADS_BANK0->GPIO[4] = PADS_IE | PADS_PDE;
    check_eq(SIO->GPIO_IN & (1u << 4), 0, "pull-down: undriven pin reads 0");
    PADS_BANK0->GPIO[4] = PADS_IE | PADS_PUE;              /* left pulled up for the host */

    /* output disable in the pad: the pin is not driven whatever SIO says */
    SIO->GPIO_OE_SET = 1u << 2;
    SIO->GPIO_OUT_SET = 1u << 2;
    check_eq(SIO->GPIO_IN & (1u << 2), 1u << 2, "GP2 driven high");
    HW_SET(&PADS_BANK0->GPIO[2]) = PADS_OD;
    check_eq(SIO->GPIO_IN & (1u << 2), 0, "pad OD: pin undriven, pull-down wins");
    check_eq(IO_BANK0->GPIO[2].STATUS & GPIO_STATUS_OETOPAD, 0, "STATUS.OETOPAD clear with OD");
    HW_CLR(&PADS_BANK0->GPIO[2]) = PADS_OD;
    uint32_t st = IO_BANK0->GPIO[2].STATUS;
    check_eq(st & (GPIO_STATUS_OUTTOPAD | GPIO_STATUS_OETOPAD | GPIO_STATUS_INFROMPAD),
             GPIO_STATUS_OUTTOPAD | GPIO_STATUS_OETOPAD | GPIO_STATUS_INFROMPAD,
             "STATUS: OUTTOPAD, OETOPAD, INFROMPAD of a pin driven high");

    /* IO_BANK0 overrides */
    IO_BANK0->GPIO[2].CTRL = GPIO_FUNC_SIO | GPIO_OVER_LOW << GPIO_CTRL_OUTOVER_SHIFT;
    check_eq(SIO->GPIO_IN & (1u << 2), 0, "OUTOVER low forces the pin low");
    IO_BANK0->GPIO[2].CTRL = GPIO_FUNC_SIO | GPIO_OVER_INVERT << GPIO_CTRL_OUTOVER_SHIFT;
    check_eq(SIO->GPIO_IN & (1u << 2), 0, "OUTOVER invert: out 1 -> pin 0");
    IO_BANK0->GPIO[2].CTRL = GPIO_FUNC_SIO | GPIO_OVER_INVERT << GPIO_CTRL_INOVER_SHIFT;
    check_eq(SIO->GPIO_IN & (1u << 2), 0, "INOVER invert: pin 1 reads 0");
    check_eq(IO_BANK0->GPIO[2].STATUS & GPIO_STATUS_OUTTOPAD, GPIO_STATUS_OUTTOPAD, "... while the pad is high");
    IO_BANK0->GPIO[2].CTRL = GPIO_FUNC_SIO | GPIO_OVER_LOW << GPIO_CTRL_OEOVER_SHIFT;
    check_eq(SIO->GPIO_IN & (1u << 2), 0, "OEOVER disable: pin undriven");
    IO_BANK0->GPIO[2].CTRL = GPIO_FUNC_NULL;
    check_eq(SIO->GPIO_IN & (1u << 2), 0, "FUNCSEL NULL: SIO does not drive the pin");
    IO_BANK0->GPIO[3].CTRL = GPIO_FUNC_NULL | GPIO_OVER_HIGH << GPIO_CTRL_OUTOVER_SHIFT
                             | GPIO_OVER_HIGH << GPIO_CTRL_OEOVER_SHIFT;
    check_eq(SIO->GPIO_IN & (1u << 3), 1u << 3, "OUTOVER/OEOVER high drive a pin with no function");
    gpio_sio(2);
    gpio_sio(3);
    SIO->GPIO_OE_CLR = 1u << 2;

    /* pins the host drives (before the program started) */
    if (host_cfg.magic == HOST_MAGIC) {
        gpio_sio(10);
        gpio_sio(11);
        PADS_BANK0->GPIO[11] = PADS_IE | PADS_PUE;
        check_eq(SIO->GPIO_IN >> 10 & 3, 1, "host drives GP10 high (over pull-down), GP11 low (over pull-up)");
        SIO->GPIO_OE_SET = 1u << 10;                       /* the chip drives it now: its level wins */
        check_eq(SIO->GPIO_IN >> 10 & 1, 0, "chip output 0 wins over the host's drive");
        SIO->GPIO_OE_CLR = 1u << 10;
        check_eq(SIO->GPIO_IN >> 10 & 1, 1, "host level again once the chip lets go");
    }

    /* left for the host: GP3 low, GP6 1 0 1 0 1, LED on */
    SIO->GPIO_OUT_CLR = 1u << 3;
    SIO->GPIO_OE_SET = 1u << 3 | 1u << 6 | 1u << 25;
    SIO->GPIO_OUT_SET = 1u << 6;
    SIO->GPIO_OUT_CLR = 1u << 6;
    SIO->GPIO_OUT_XOR = 1u << 6;
    SIO->GPIO_OUT_XOR = 1u << 6;
    SIO->GPIO_OUT_SET = 1u << 6 | 1u << 25;
    SIO->GPIO_OUT_SET = 1u << 6;                            /* no change: no edge */
    check_eq(SIO->GPIO_IN & (1u << 6 | 1u << 25), 1u << 6 | 1u << 25, "GP6 and LED (GP25) high");
}

/* ---- IO_BANK0 edge interrupts ---------------------------------------------------------------- */
static volatile uint32_t gpio_irqs, gpio_ints;

void IRQ13_Handler(void) {                                  /* IO_IRQ_BANK0 */
    gpio_irqs++;
    gpio_ints = IO_BANK0->PROC0_INTS[0];
    IO_BANK0->INTR[0] = gpio_ints & 0xcccccccc;            /* clear the edge bits (W1C) */
    HW_CLR(&IO_BANK0->PROC0_INTE[0]) = gpio_ints & 0x33333333;   /* level ones: stop */
}

static void test_gpio_irq(void) {
    const unsigned p = 5;
    const uint32_t edge_hi = GPIO_INT_EDGE_HIGH << (4 * p), edge_lo = GPIO_INT_EDGE_LOW << (4 * p);
    SIO->GPIO_OUT_CLR = 1u << p;
    SIO->GPIO_OE_SET = 1u << p;
    IO_BANK0->INTR[0] = 0xffffffffu;
    check_eq(IO_BANK0->INTR[0] & (edge_hi | edge_lo), 0, "edge bits clear after W1C");
    IO_BANK0->PROC0_INTE[0] = edge_hi;
    irq_enable(IO_IRQ_BANK0);
    SIO->GPIO_OUT_SET = 1u << p;
    __asm volatile("dsb\n isb" ::: "memory");
    check_eq(gpio_irqs, 1, "rising edge on GP5 raises IO_IRQ_BANK0");
    check_eq(gpio_ints, edge_hi, "PROC0_INTS shows EDGE_HIGH of GP5");
    check_eq(IO_BANK0->INTR[0] & edge_hi, 0, "EDGE_HIGH cleared by writing 1");
    SIO->GPIO_OUT_CLR = 1u << p;
    check_eq(IO_BANK0->INTR[0] & edge_lo, edge_lo, "falling edge latched in INTR (not enabled)");
    check_eq(gpio_irqs, 1, "no IRQ for a disabled edge");
    check_eq(IO_BANK0->INTR[0] & (GPIO_INT_LEVEL_LOW << (4 * p)), GPIO_INT_LEVEL_LOW << (4 * p),
             "LEVEL_LOW live while the pin is low");
    IO_BANK0->PROC0_INTE[0] = GPIO_INT_LEVEL_HIGH << (4 * p);
    SIO->GPIO_OUT_SET = 1u << p;
    __asm volatile("dsb\n isb" ::: "memory");
    check_eq(gpio_irqs, 2, "LEVEL_HIGH interrupt");
    IO_BANK0->PROC0_INTE[0] = 0;
    IO_BANK0->INTR[0] = 0xffffffffu;
    irq_disable(IO_IRQ_BANK0);
    SIO->GPIO_OE_CLR = 1u << p;
}

/* ---- divider ----------------------------------------------------------------------------------- */
static uint32_t rng = 0x2545f491u;
static uint32_t xorshift(void) {
    rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
    return rng;
}

static void div_wait(void) { while (!(SIO->DIV_CSR & SIO_DIV_CSR_READY)) { } }

static void hw_udiv(uint32_t n, uint32_t d, uint32_t *q, uint32_t *r) {
    SIO->DIV_UDIVIDEND = n;
    SIO->DIV_UDIVISOR = d;
    div_wait();
    *r = SIO->DIV_REMAINDER;                    /* remainder first: reading QUOTIENT clears DIRTY */
    *q = SIO->DIV_QUOTIENT;
}

static void hw_sdiv(int32_t n, int32_t d, int32_t *q, int32_t *r) {
    SIO->DIV_SDIVIDEND = (uint32_t)n;
    SIO->DIV_SDIVISOR = (uint32_t)d;
    div_wait();
    *r = (int32_t)SIO->DIV_REMAINDER;
    *q = (int32_t)SIO->DIV_QUOTIENT;
}

/* operands: fixed edge values, then random ones of random magnitude */
static uint32_t operand(unsigned i) {
    static const uint32_t edge[] = {0, 1, 2, 3, 7, 0x7fffffffu, 0x80000000u, 0x80000001u, 0xffffffffu,
                                    0xfffffffeu, 0x10000u, 0xffffu, 100, 0xffffff9cu /* -100 */};
    if (i < sizeof edge / sizeof edge[0]) return edge[i];
    return xorshift() >> (xorshift() & 31);
}

static void test_divider(void) {
    const unsigned N = 14 + 400;
    uint32_t ubad = 0, sbad = 0, zbad = 0, count = 0;
    for (unsigned i = 0; i < N; i++) {
        uint32_t a = operand(i);
        for (unsigned j = 0; j < 24; j++) {
            uint32_t b = j < 14 ? operand(j) : operand(14 + (i * 24 + j) % 400);
            uint32_t q, r;
            int32_t sq, sr;
            hw_udiv(a, b, &q, &r);
            hw_sdiv((int32_t)a, (int32_t)b, &sq, &sr);
            count++;
            if (b == 0) {
                /* datasheet: unsigned quotient all ones; signed -1 (dividend >= 0) or 1 (< 0);
                 * remainder = dividend */
                int32_t want_sq = (int32_t)a < 0 ? 1 : -1;
                if (q != 0xffffffffu || r != a || sq != want_sq || (uint32_t)sr != a) {
                    if (zbad++ < 3) { info_hex("div0 dividend", a); info_hex("q", q); info_hex("sq", (uint32_t)sq); }
                }
                continue;
            }
            if (q != a / b || r != a % b) {                     /* libgcc __aeabi_uidivmod */
                if (ubad++ < 3) { info_hex("udiv a", a); info_hex("b", b); info_hex("q", q); info_hex("r", r); }
            }
            int32_t sa = (int32_t)a, sb = (int32_t)b, wq, wr;
            if (sa == (int32_t)0x80000000 && sb == -1) { wq = sa; wr = 0; }   /* overflows: wraps */
            else { wq = sa / sb; wr = sa % sb; }                               /* __aeabi_idivmod */
            if (sq != wq || sr != wr) {
                if (sbad++ < 3) { info_hex("sdiv a", a); info_hex("b", b); info_hex("q", (uint32_t)sq); info_hex("r", (uint32_t)sr); }
            }
        }
    }
    info("divider operand pairs", count);
    check_eq(ubad, 0, "unsigned divide = libgcc on every operand pair");
    check_eq(sbad, 0, "signed divide = libgcc (truncating, remainder sign of dividend)");
    check_eq(zbad, 0, "divide by zero: quotient -1 / +1 / 0xffffffff, remainder = dividend");

    int32_t q, r;
    hw_sdiv(-7, 2, &q, &r);
    check((uint32_t)q == (uint32_t)-3 && (uint32_t)r == (uint32_t)-1, "-7 / 2 = -3 rem -1");
    hw_sdiv(7, -2, &q, &r);
    check((uint32_t)q == (uint32_t)-3 && r == 1, "7 / -2 = -3 rem 1");
    hw_sdiv(-7, -2, &q, &r);
    check(q == 3 && (uint32_t)r == (uint32_t)-1, "-7 / -2 = 3 rem -1");
    hw_sdiv((int32_t)0x80000000, -1, &q, &r);
    check((uint32_t)q == 0x80000000u && r == 0, "INT_MIN / -1 = INT_MIN rem 0");

    /* CSR */
    SIO->DIV_UDIVIDEND = 100;
    SIO->DIV_UDIVISOR = 7;
    div_wait();
    check_eq(SIO->DIV_CSR & SIO_DIV_CSR_DIRTY, SIO_DIV_CSR_DIRTY, "CSR.DIRTY set by an operand write");
    check_eq(SIO->DIV_REMAINDER, 2, "100 % 7");
    check_eq(SIO->DIV_CSR & SIO_DIV_CSR_DIRTY, SIO_DIV_CSR_DIRTY, "reading REMAINDER keeps DIRTY");
    check_eq(SIO->DIV_QUOTIENT, 14, "100 / 7");
    check_eq(SIO->DIV_CSR, SIO_DIV_CSR_READY, "reading QUOTIENT clears DIRTY; READY");
    check_eq(SIO->DIV_UDIVIDEND, 100, "dividend reads back");
    check_eq(SIO->DIV_UDIVISOR, 7, "divisor reads back");
    check_eq(SIO->DIV_SDIVIDEND, 100, "SDIVIDEND is the same register");

    /* save/restore, as an interrupt handler that uses the divider does: save operands and
     * results, divide, write the operands back then the results (cancels the new calculation) */
    SIO->DIV_SDIVIDEND = (uint32_t)-1000;
    SIO->DIV_SDIVISOR = 33;                       /* interrupted before reading the results */
    div_wait();
    uint32_t s_n = SIO->DIV_UDIVIDEND, s_d = SIO->DIV_UDIVISOR;
    uint32_t s_r = SIO->DIV_REMAINDER, s_q = SIO->DIV_QUOTIENT;
    uint32_t other_q, other_r;
    hw_udiv(123456, 789, &other_q, &other_r);
    check(other_q == 156 && other_r == 372, "divider used in between: 123456 / 789");
    SIO->DIV_UDIVIDEND = s_n;
    SIO->DIV_UDIVISOR = s_d;
    SIO->DIV_REMAINDER = s_r;
    SIO->DIV_QUOTIENT = s_q;
    check_eq(SIO->DIV_CSR & SIO_DIV_CSR_READY, SIO_DIV_CSR_READY, "writing the results: READY at once");
    check_eq(SIO->DIV_CSR & SIO_DIV_CSR_DIRTY, SIO_DIV_CSR_DIRTY, "writing the results sets DIRTY");
    check_eq(SIO->DIV_REMAINDER, (uint32_t)-10, "restored remainder (-1000 % 33 = -10)");
    check_eq(SIO->DIV_QUOTIENT, (uint32_t)-30, "restored quotient (-1000 / 33 = -30)");
    check_eq(SIO->DIV_SDIVIDEND, (uint32_t)-1000, "restored dividend");
    check_eq(SIO->DIV_SDIVISOR, 33, "restored divisor");
}

/* ---- spinlocks ------------------------------------------------------------------------------------ */
static void test_spinlocks(void) {
    check_eq(SIO->SPINLOCK_ST, 0, "SPINLOCK_ST: all free after reset");
    check_eq(SIO->SPINLOCK[5], 1u << 5, "claiming lock 5 returns its bit");
    check_eq(SIO->SPINLOCK[5], 0, "second claim of lock 5 returns 0");
    check_eq(SIO->SPINLOCK_ST, 1u << 5, "SPINLOCK_ST shows lock 5");
    check_eq(SIO->SPINLOCK[31], 1u << 31, "claiming lock 31");
    check_eq(SIO->SPINLOCK_ST, 1u << 5 | 1u << 31, "SPINLOCK_ST shows locks 5 and 31");
    SIO->SPINLOCK[5] = 0;                             /* any write releases */
    check_eq(SIO->SPINLOCK_ST, 1u << 31, "write releases lock 5 only");
    check_eq(SIO->SPINLOCK[5], 1u << 5, "lock 5 can be claimed again");
    uint32_t got = 0;
    for (unsigned i = 0; i < 32; i++) got |= SIO->SPINLOCK[i];
    check_eq(got, ~(1u << 5 | 1u << 31), "claiming all: the 30 free ones succeed");
    check_eq(SIO->SPINLOCK_ST, 0xffffffffu, "SPINLOCK_ST all claimed");
    for (unsigned i = 0; i < 32; i++) SIO->SPINLOCK[i] = 1;
    check_eq(SIO->SPINLOCK_ST, 0, "all released");
}

/* ---- FIFO ------------------------------------------------------------------------------------------ */
static void test_fifo(void) {
    uint32_t st = SIO->FIFO_ST;
    check_eq(st & (SIO_FIFO_ST_VLD | SIO_FIFO_ST_RDY), SIO_FIFO_ST_RDY, "FIFO_ST: RDY, nothing to read (VLD 0)");
    check_eq(st & (SIO_FIFO_ST_WOF | SIO_FIFO_ST_ROE), 0, "FIFO_ST: no error flags after reset");
    __asm volatile("cpsid i" ::: "memory");
    (void)SIO->FIFO_RD;
    check_eq(SIO->FIFO_ST & SIO_FIFO_ST_ROE, SIO_FIFO_ST_ROE, "reading an empty FIFO sets ROE");
    /* datasheet: SIO_IRQ_PROC0 is asserted while VLD, WOF or ROE is set */
    info("FIFO ROE pends SIO_IRQ_PROC0", (NVIC_ISPR >> SIO_IRQ_PROC0) & 1);
    SIO->FIFO_ST = SIO_FIFO_ST_ROE;
    check_eq(SIO->FIFO_ST & SIO_FIFO_ST_ROE, 0, "writing 1 to ROE clears it");
    NVIC_ICPR = 1u << SIO_IRQ_PROC0;
    __asm volatile("cpsie i" ::: "memory");
}

int main(void) {
    puts_("periph_sio\n");
    test_cpuid();
    test_spinlocks();
    test_fifo();
    test_divider();
    test_gpio();
    test_gpio_irq();
    finish();
}
