/* boardemu clean-room RP2040 boot ROM: boot checks, bit routines, flash set-up functions and the
 * soft-float tables' functions. Written for boardemu from the RP2040 datasheet's description of
 * the ROM interface (section 2.8) and the pico-sdk's use of it; no code from Raspberry Pi's ROM.
 *
 * Float semantics (see docs: every slot is checked by tests/test_rp2040_rom.py):
 *  - add, sub, mul, div, float<->double: IEEE-754 round-to-nearest-even with NaN, infinities,
 *    signed zeros and subnormals (the compiler runtime's soft-float routines, libgcc);
 *  - integer/fixed -> float/double: nearest-even, one rounding (own code below);
 *  - float/double -> integer/fixed: floor(x * 2^n) clamped to the result type, as the datasheet
 *    says (the pico-sdk builds C truncation on top); NaN clamps like an infinity of its sign;
 *  - sqrt: IEEE, except that a negative argument (other than -0) gives -infinity (datasheet);
 *    ln: a negative argument gives -infinity (datasheet), ln(±0) = -infinity;
 *  - cmp: -1, 0, 1 for <, ==, > (exact on subnormals, -0 == +0); unordered (a NaN) gives 1;
 *  - sin, cos, tan, exp, ln, atan2: newlib's fdlibm-derived libm in double precision (the float
 *    versions round the double result), any argument (the real ROM only promises |x| < 128 for
 *    floats and |x| < 1024 for doubles: the pico-sdk reduces larger angles itself).
 * The ROM uses no RAM of its own: only the caller's stack. */
#include <stdint.h>
#include "rom.h"

/* ---- boot ---------------------------------------------------------------------------------- */
#define WATCHDOG_MAGIC 0xb007c0d3u

/* The watchdog "boot to this address" request: SCRATCH4 = magic, SCRATCH5 = SCRATCH7 ^ -magic,
 * SCRATCH6 = stack pointer, SCRATCH7 = entry (Thumb bit set). Consumed: SCRATCH4 is cleared.
 * Returns entry | sp << 32, or 0. */
uint64_t rom_watchdog_vector(void) {
    uint32_t magic = WATCHDOG_SCRATCH(4), check = WATCHDOG_SCRATCH(5);
    uint32_t sp = WATCHDOG_SCRATCH(6), entry = WATCHDOG_SCRATCH(7);
    if (magic != WATCHDOG_MAGIC || (check ^ entry) != -WATCHDOG_MAGIC)
        return 0;
    WATCHDOG_SCRATCH(4) = 0;
    return entry | (uint64_t)sp << 32;
}

/* CRC-32/MPEG-2 (polynomial 0x04c11db7, MSB first, initial value 0xffffffff, no final XOR) */
static uint32_t crc32_mpeg2(const uint8_t *p, uint32_t n) {
    uint32_t crc = 0xffffffffu;
    while (n--) {
        crc ^= (uint32_t)*p++ << 24;
        for (int i = 0; i < 8; i++)
            crc = (crc << 1) ^ ((uint32_t)-(int32_t)(crc >> 31) & 0x04c11db7u);
    }
    return crc;
}

/* Copy boot2 (flash 0x10000000, 256 bytes) to SRAM 0x20041f00; 1 if its CRC (last word) holds. */
int rom_load_boot2(void) {
    const volatile uint32_t *src = (const volatile uint32_t *)0x10000000u;
    volatile uint32_t *dst = (volatile uint32_t *)0x20041f00u;
    for (int i = 0; i < 64; i++)
        dst[i] = src[i];
    return crc32_mpeg2((const uint8_t *)dst, 252) == dst[63];
}

/* ---- bits ---------------------------------------------------------------------------------- */
#define HOT __attribute__((optimize("O2")))

HOT uint32_t rom_popcount32(uint32_t v) {
    v = v - ((v >> 1) & 0x55555555u);
    v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
    v = (v + (v >> 4)) & 0x0f0f0f0fu;
    return (v * 0x01010101u) >> 24;
}

HOT uint32_t rom_reverse32(uint32_t v) {
    v = ((v >> 1) & 0x55555555u) | ((v & 0x55555555u) << 1);
    v = ((v >> 2) & 0x33333333u) | ((v & 0x33333333u) << 2);
    v = ((v >> 4) & 0x0f0f0f0fu) | ((v & 0x0f0f0f0fu) << 4);
    v = ((v >> 8) & 0x00ff00ffu) | ((v & 0x00ff00ffu) << 8);
    return (v >> 16) | (v << 16);
}

HOT uint32_t rom_clz32(uint32_t v) {
    uint32_t n = 0;
    if (!v) return 32;
    if (v < 0x10000u) { n += 16; v <<= 16; }
    if (v < 0x1000000u) { n += 8; v <<= 8; }
    if (v < 0x10000000u) { n += 4; v <<= 4; }
    if (v < 0x40000000u) { n += 2; v <<= 2; }
    if (v < 0x80000000u) n += 1;
    return n;
}

HOT uint32_t rom_ctz32(uint32_t v) {
    if (!v) return 32;
    return 31 - rom_clz32(v & -v);
}

static int clz64(uint64_t v) {
    uint32_t hi = (uint32_t)(v >> 32);
    return hi ? (int)rom_clz32(hi) : 32 + (int)rom_clz32((uint32_t)v);
}

/* ---- flash set-up (the serial flash interface is modelled by the emulator) ----------------- */
void rom_connect_internal_flash(void) {
    IO_QSPI_SS_CTRL &= ~0x300u;                 /* chip select driven by the SSI again */
}

void rom_flash_exit_xip(void) {
    SSI_SSIENR = 0;
    SSI_BAUDR = 6;
    SSI_CTRLR0 = 7u << 16;                      /* standard SPI, 8-bit frames, transmit+receive */
    SSI_SER = 1;
    SSI_SSIENR = 1;
    IO_QSPI_SS_CTRL &= ~0x300u;
}

void rom_flash_flush_cache(void) {
    XIP_CTRL_FLUSH = 1;
    IO_QSPI_SS_CTRL &= ~0x300u;                 /* drop any chip-select override */
}

void rom_flash_enter_cmd_xip(void) {
    SSI_SSIENR = 0;
    SSI_CTRLR0 = (3u << 8) | (31u << 16);       /* EEPROM read mode, 32-bit frames */
    SSI_SSIENR = 1;
}

/* ---- number formats ---------------------------------------------------------------------------
 * Floats travel as their bit patterns (uint32_t in r0), doubles as uint64_t (r0:r1 / r2:r3),
 * exactly as the soft-float calling convention passes them. */
typedef union { float f; uint32_t u; } fbits;
typedef union { double d; uint64_t u; } dbits;

static inline float F(uint32_t u) { fbits b = { .u = u }; return b.f; }
static inline uint32_t UF(float f) { fbits b = { .f = f }; return b.u; }
static inline double D(uint64_t u) { dbits b = { .u = u }; return b.d; }
static inline uint64_t UD(double d) { dbits b = { .d = d }; return b.u; }

#define F_IS_NAN(u) (((u) << 1) > 0xff000000u)
#define D_IS_NAN(u) (((u) << 1) > 0xffe0000000000000ull)
#define F_NEG_INF 0xff800000u
#define D_NEG_INF 0xfff0000000000000ull

static int32_t clamp_shift(int32_t n) { return n > 4096 ? 4096 : n < -4096 ? -4096 : n; }

/* A finite or special number as sign, kind and (when finite and non-zero) mag * 2^exp. */
enum { NUM_FINITE, NUM_ZERO, NUM_INF };   /* NaN counts as an infinity of its sign here */
typedef struct { int neg, kind; uint64_t mag; int32_t exp; } num;

static num unpack_f(uint32_t u) {
    num r = { (int)(u >> 31), NUM_FINITE, u & 0x7fffffu, 0 };
    uint32_t e = (u >> 23) & 0xff;
    if (e == 0xff) r.kind = NUM_INF;
    else if (e == 0) { if (!r.mag) r.kind = NUM_ZERO; r.exp = 1 - 150; }
    else { r.mag |= 0x800000u; r.exp = (int32_t)e - 150; }
    return r;
}

static num unpack_d(uint64_t u) {
    num r = { (int)(u >> 63), NUM_FINITE, u & 0xfffffffffffffull, 0 };
    uint32_t e = (uint32_t)(u >> 52) & 0x7ff;
    if (e == 0x7ff) r.kind = NUM_INF;
    else if (e == 0) { if (!r.mag) r.kind = NUM_ZERO; r.exp = 1 - 1075; }
    else { r.mag |= 1ull << 52; r.exp = (int32_t)e - 1075; }
    return r;
}

/* floor(x * 2^n) clamped to a `width`-bit signed or unsigned integer (two's complement bits). */
static uint64_t to_fixed(num x, int32_t n, int is_signed, int width) {
    uint64_t maxpos = is_signed ? (1ull << (width - 1)) - 1 : ~0ull >> (64 - width);
    uint64_t minneg = is_signed ? 1ull << (width - 1) : 0;     /* magnitude of the minimum */
    uint64_t ip;
    int frac;
    if (x.kind == NUM_ZERO) return 0;
    if (x.kind == NUM_FINITE) {
        int32_t sh = x.exp + clamp_shift(n);
        if (sh >= 0) {
            if (sh > 63 || (sh && x.mag >> (64 - sh))) goto clamp;   /* 2^64 or more */
            ip = x.mag << sh;
            frac = 0;
        }
        else if (sh > -64) { ip = x.mag >> -sh; frac = (x.mag << (64 + sh)) != 0; }
        else { ip = 0; frac = 1; }
        if (!x.neg) return ip > maxpos ? maxpos : ip;
        ip += (uint64_t)frac;                    /* floor of a negative number: -ceil(|x|) */
        return ip > minneg ? -minneg : -ip;      /* unsigned: minneg = 0 gives 0 */
    }
clamp:
    return x.neg ? -minneg : maxpos;
}

/* (-1)^neg * mag * 2^exp rounded to nearest-even in a format with `mbits` fraction bits and
 * `ebits` exponent bits: subnormals, overflow to infinity, one rounding. */
static uint64_t round_pack(int neg, uint64_t mag, int32_t exp, int mbits, int ebits) {
    uint64_t sign = (uint64_t)neg << (mbits + ebits);
    int32_t emax = (1 << ebits) - 1, bias = (emax >> 1);
    if (!mag) return sign;
    int lz = clz64(mag);
    mag <<= lz;                                  /* leading 1 in bit 63 */
    int32_t be = clamp_shift(exp) + 63 - lz + bias;   /* biased exponent of the leading 1 */
    int32_t shift = 63 - mbits;                  /* keep mbits + 1 significant bits */
    uint64_t q;
    if (be <= 0) { shift += 1 - be; be = 0; }   /* subnormal: fixed quantum */
    if (shift >= 64) {
        q = shift == 64 && mag > (1ull << 63);  /* above half of the smallest subnormal */
    } else {
        uint64_t rest = mag << (64 - shift), half = 1ull << 63;
        q = mag >> shift;
        if (rest > half || (rest == half && (q & 1))) q++;
    }
    if (be == 0) return sign | q;                /* q == 2^mbits encodes the smallest normal */
    if (q >> (mbits + 1)) { q >>= 1; be++; }
    if (be >= emax) return sign | ((uint64_t)emax << mbits);
    return sign | ((uint64_t)be << mbits) | (q & ((1ull << mbits) - 1));
}

#define TO_F(neg, mag, exp) ((uint32_t)round_pack((neg), (mag), (exp), 23, 8))
#define TO_D(neg, mag, exp) round_pack((neg), (mag), (exp), 52, 11)
static uint64_t abs64(int64_t x) { return x < 0 ? -(uint64_t)x : (uint64_t)x; }
static uint32_t abs32(int32_t x) { return x < 0 ? -(uint32_t)x : (uint32_t)x; }

/* comparison keys: monotonic in the value, -0 == +0 */
static int32_t fkey(uint32_t u) { return (int32_t)u < 0 ? -(int32_t)(u & 0x7fffffffu) : (int32_t)u; }
static int64_t dkey(uint64_t u) {
    return (int64_t)u < 0 ? -(int64_t)(u & 0x7fffffffffffffffull) : (int64_t)u;
}

/* newlib libm (fdlibm): the IEEE cores, which never touch errno */
double __ieee754_sqrt(double);
float __ieee754_sqrtf(float);
double __ieee754_exp(double);
double __ieee754_log(double);
double __ieee754_atan2(double, double);
int32_t __ieee754_rem_pio2(double, double *);
double __kernel_sin(double, double, int);
double __kernel_cos(double, double);
double __kernel_tan(double, double, int);
double sin(double);                     /* fdlibm s_sin.c, s_cos.c: no errno either */
double cos(double);

static void sincos_d(double x, double *s, double *c) {
    uint32_t hi = (uint32_t)(UD(x) >> 32) & 0x7fffffffu;
    double y[2], ks, kc;
    int32_t n = 0;
    if (hi >= 0x7ff00000u) { *s = *c = D(0x7ff8000000000000ull); return; }   /* inf, NaN */
    if (hi <= 0x3fe921fbu) { y[0] = x; y[1] = 0; }                             /* |x| <~ pi/4 */
    else n = __ieee754_rem_pio2(x, y);
    ks = __kernel_sin(y[0], y[1], 1);
    kc = __kernel_cos(y[0], y[1]);
    switch (n & 3) {
    case 0: *s = ks; *c = kc; break;
    case 1: *s = kc; *c = -ks; break;
    case 2: *s = -ks; *c = -kc; break;
    default: *s = -kc; *c = ks; break;
    }
}

static double tan_d(double x) {
    uint32_t hi = (uint32_t)(UD(x) >> 32) & 0x7fffffffu;
    double y[2];
    if (hi >= 0x7ff00000u) return D(0x7ff8000000000000ull);
    if (hi <= 0x3fe921fbu) return __kernel_tan(x, 0, 1);
    int32_t n = __ieee754_rem_pio2(x, y);
    return __kernel_tan(y[0], y[1], 1 - ((n & 1) << 1));
}

static double ln_d(double x) {
    uint64_t u = UD(x);
    if ((int64_t)u < 0 && (u << 1) && !D_IS_NAN(u)) return D(D_NEG_INF);       /* x < 0 */
    return __ieee754_log(x);
}

/* ---- SF: single precision ------------------------------------------------------------------ */
/* Subtraction is addition of the negated operand: exact in IEEE-754 (signed zeros included;
 * only a NaN's sign may differ). Defining these keeps libgcc's separate subtraction routines
 * (2.6 KiB) out of the ROM; libm's code uses them too. */
uint32_t __aeabi_fadd(uint32_t, uint32_t);
uint64_t __aeabi_dadd(uint64_t, uint64_t);
uint32_t __aeabi_fsub(uint32_t a, uint32_t b) { return __aeabi_fadd(a, b ^ 0x80000000u); }
uint64_t __aeabi_dsub(uint64_t a, uint64_t b) { return __aeabi_dadd(a, b ^ (1ull << 63)); }

/* fadd, fsub, fmul, fdiv and float2double are libgcc's __aeabi_* routines (start.S) */
int32_t sf_fcmp(uint32_t a, uint32_t b) {
    if (F_IS_NAN(a) || F_IS_NAN(b)) return 1;
    int32_t ka = fkey(a), kb = fkey(b);
    return ka < kb ? -1 : ka > kb;
}

uint32_t sf_fsqrt(uint32_t a) {
    if ((int32_t)a < 0 && (a << 1) && !F_IS_NAN(a)) return F_NEG_INF;
    return UF(__ieee754_sqrtf(F(a)));
}

int32_t sf_float2int(uint32_t a) { return (int32_t)to_fixed(unpack_f(a), 0, 1, 32); }
int32_t sf_float2fix(uint32_t a, int32_t n) { return (int32_t)to_fixed(unpack_f(a), n, 1, 32); }
uint32_t sf_float2uint(uint32_t a) { return (uint32_t)to_fixed(unpack_f(a), 0, 0, 32); }
uint32_t sf_float2ufix(uint32_t a, int32_t n) { return (uint32_t)to_fixed(unpack_f(a), n, 0, 32); }
int64_t sf_float2int64(uint32_t a) { return (int64_t)to_fixed(unpack_f(a), 0, 1, 64); }
int64_t sf_float2fix64(uint32_t a, int32_t n) { return (int64_t)to_fixed(unpack_f(a), n, 1, 64); }
uint64_t sf_float2uint64(uint32_t a) { return to_fixed(unpack_f(a), 0, 0, 64); }
uint64_t sf_float2ufix64(uint32_t a, int32_t n) { return to_fixed(unpack_f(a), n, 0, 64); }

uint32_t sf_int2float(int32_t x) { return TO_F(x < 0, abs32(x), 0); }
uint32_t sf_fix2float(int32_t x, int32_t n) { return TO_F(x < 0, abs32(x), -clamp_shift(n)); }
uint32_t sf_uint2float(uint32_t x) { return TO_F(0, x, 0); }
uint32_t sf_ufix2float(uint32_t x, int32_t n) { return TO_F(0, x, -clamp_shift(n)); }
uint32_t sf_int642float(int64_t x) { return TO_F(x < 0, abs64(x), 0); }
uint32_t sf_fix642float(int64_t x, int32_t n) { return TO_F(x < 0, abs64(x), -clamp_shift(n)); }
uint32_t sf_uint642float(uint64_t x) { return TO_F(0, x, 0); }
uint32_t sf_ufix642float(uint64_t x, int32_t n) { return TO_F(0, x, -clamp_shift(n)); }

/* fsin and fsincos (v3 slot 0x48): sin in r0, cos in r1 (the pico-sdk's sincosf reads both
 * from the fsin slot) */
uint64_t sf_fsincos(uint32_t a) {
    double s, c;
    sincos_d((double)F(a), &s, &c);
    return UF((float)s) | (uint64_t)UF((float)c) << 32;
}

uint32_t sf_fcos(uint32_t a) { return UF((float)cos((double)F(a))); }
uint32_t sf_ftan(uint32_t a) { return UF((float)tan_d((double)F(a))); }
uint32_t sf_fexp(uint32_t a) { return UF((float)__ieee754_exp((double)F(a))); }
uint32_t sf_fln(uint32_t a) { return UF((float)ln_d((double)F(a))); }
uint32_t sf_fatan2(uint32_t y, uint32_t x) {
    return UF((float)__ieee754_atan2((double)F(y), (double)F(x)));
}

/* ---- SD: double precision (same slots) ----------------------------------------------------- */
/* dadd, dsub, dmul, ddiv and double2float are libgcc's __aeabi_* routines (start.S) */
int32_t sd_dcmp(uint64_t a, uint64_t b) {
    if (D_IS_NAN(a) || D_IS_NAN(b)) return 1;
    int64_t ka = dkey(a), kb = dkey(b);
    return ka < kb ? -1 : ka > kb;
}

uint64_t sd_dsqrt(uint64_t a) {
    if ((int64_t)a < 0 && (a << 1) && !D_IS_NAN(a)) return D_NEG_INF;
    return UD(__ieee754_sqrt(D(a)));
}

int32_t sd_double2int(uint64_t a) { return (int32_t)to_fixed(unpack_d(a), 0, 1, 32); }
int32_t sd_double2fix(uint64_t a, int32_t n) { return (int32_t)to_fixed(unpack_d(a), n, 1, 32); }
uint32_t sd_double2uint(uint64_t a) { return (uint32_t)to_fixed(unpack_d(a), 0, 0, 32); }
uint32_t sd_double2ufix(uint64_t a, int32_t n) { return (uint32_t)to_fixed(unpack_d(a), n, 0, 32); }
int64_t sd_double2int64(uint64_t a) { return (int64_t)to_fixed(unpack_d(a), 0, 1, 64); }
int64_t sd_double2fix64(uint64_t a, int32_t n) { return (int64_t)to_fixed(unpack_d(a), n, 1, 64); }
uint64_t sd_double2uint64(uint64_t a) { return to_fixed(unpack_d(a), 0, 0, 64); }
uint64_t sd_double2ufix64(uint64_t a, int32_t n) { return to_fixed(unpack_d(a), n, 0, 64); }

uint64_t sd_int2double(int32_t x) { return TO_D(x < 0, abs32(x), 0); }
uint64_t sd_fix2double(int32_t x, int32_t n) { return TO_D(x < 0, abs32(x), -clamp_shift(n)); }
uint64_t sd_uint2double(uint32_t x) { return TO_D(0, x, 0); }
uint64_t sd_ufix2double(uint32_t x, int32_t n) { return TO_D(0, x, -clamp_shift(n)); }
uint64_t sd_int642double(int64_t x) { return TO_D(x < 0, abs64(x), 0); }
uint64_t sd_fix642double(int64_t x, int32_t n) { return TO_D(x < 0, abs64(x), -clamp_shift(n)); }
uint64_t sd_uint642double(uint64_t x) { return TO_D(0, x, 0); }
uint64_t sd_ufix642double(uint64_t x, int32_t n) { return TO_D(0, x, -clamp_shift(n)); }

uint64_t sd_dsin(uint64_t a) { return UD(sin(D(a))); }
uint64_t sd_dcos(uint64_t a) { return UD(cos(D(a))); }
void sd_sincos_to(uint64_t a, double out[2]) { sincos_d(D(a), &out[0], &out[1]); }
uint64_t sd_dtan(uint64_t a) { return UD(tan_d(D(a))); }
uint64_t sd_dexp(uint64_t a) { return UD(__ieee754_exp(D(a))); }
uint64_t sd_dln(uint64_t a) { return UD(ln_d(D(a))); }
uint64_t sd_datan2(uint64_t y, uint64_t x) { return UD(__ieee754_atan2(D(y), D(x))); }
