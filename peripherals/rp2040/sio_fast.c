/* RP2040 SIO fast path (boardemu): the registers MicroPython hits on every allocation and
 * division, answered natively instead of through a Python MMIO callback.
 *
 * Handled here (reads of any width, word writes): CPUID (core 0), SPINLOCK0..31 (claim on read, release on
 * write; one core runs, so a free lock is always won), SPINLOCK_ST, and the hardware divider
 * (DIV_UDIVIDEND..DIV_CSR: results at once, QUOTIENT/REMAINDER writable for save/restore,
 * CSR.DIRTY set by writes and cleared by reading QUOTIENT; division by zero as the hardware).
 * Everything else, and byte/half-word writes, go to the Python model through the two
 * callbacks, which use the same state struct (sio.py, class SioState).
 */
#include <stdint.h>

typedef uint64_t (*py_read_fn)(uint64_t off, uint32_t size);
typedef void (*py_write_fn)(uint64_t off, uint32_t size, uint64_t value);

struct sio_state {
    py_read_fn py_read;
    py_write_fn py_write;
    uint32_t dividend, divisor, quot, rem, dirty, locks;
};

static void udiv(struct sio_state *s)
{
    uint32_t n = s->dividend, d = s->divisor;
    if (d == 0) {
        s->quot = 0xffffffffu;
        s->rem = n;
    } else {
        s->quot = n / d;
        s->rem = n % d;
    }
    s->dirty = 1;
}

static void sdiv(struct sio_state *s)
{
    int32_t n = (int32_t)s->dividend, d = (int32_t)s->divisor;
    if (d == 0) {
        s->quot = n >= 0 ? 0xffffffffu : 1u;
        s->rem = (uint32_t)n;
    } else if (n == INT32_MIN && d == -1) {
        s->quot = 0x80000000u;          /* wraps, as the hardware */
        s->rem = 0;
    } else {
        s->quot = (uint32_t)(n / d);    /* C truncates toward zero, as the divider */
        s->rem = (uint32_t)(n % d);
    }
    s->dirty = 1;
}

static int word_read(struct sio_state *s, uint64_t off, uint32_t *v)
{
    switch (off) {
    case 0x000: *v = 0; return 1;                               /* CPUID: core 0 */
    case 0x05c: *v = s->locks; return 1;
    case 0x060: case 0x068: *v = s->dividend; return 1;
    case 0x064: case 0x06c: *v = s->divisor; return 1;
    case 0x070: s->dirty = 0; *v = s->quot; return 1;
    case 0x074: *v = s->rem; return 1;
    case 0x078: *v = 1u | (s->dirty ? 2u : 0u); return 1;
    default:
        if (off >= 0x100 && off < 0x180) {
            uint32_t bit = 1u << ((off - 0x100) >> 2);
            if (s->locks & bit) {
                *v = 0;
            } else {
                s->locks |= bit;
                *v = bit;
            }
            return 1;
        }
    }
    return 0;
}

uint64_t be_sio_read(void *uc, uint64_t off, unsigned size, void *user)
{
    struct sio_state *s = user;
    uint32_t v;
    (void)uc;
    /* byte and half-word reads (MicroPython reads CPUID with ldrb) see their lanes */
    if (word_read(s, off & ~(uint64_t)3, &v)) {
        if (size == 4)
            return v;
        return (v >> ((off & 3) * 8)) & (size == 1 ? 0xffu : 0xffffu);
    }
    return s->py_read(off, size);
}

void be_sio_write(void *uc, uint64_t off, unsigned size, uint64_t value, void *user)
{
    struct sio_state *s = user;
    uint32_t v = (uint32_t)value;
    (void)uc;
    if (size == 4) {
        switch (off) {
        case 0x060: s->dividend = v; udiv(s); return;
        case 0x064: s->divisor = v; udiv(s); return;
        case 0x068: s->dividend = v; sdiv(s); return;
        case 0x06c: s->divisor = v; sdiv(s); return;
        case 0x070: s->quot = v; s->dirty = 1; return;
        case 0x074: s->rem = v; s->dirty = 1; return;
        default:
            if (off >= 0x100 && off < 0x180) {
                s->locks &= ~(1u << ((off - 0x100) >> 2));
                return;
            }
        }
    }
    s->py_write(off, size, value);
}
