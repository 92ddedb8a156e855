/* boardemu clean-room RP2040 boot ROM: reset, memory and bit routines, flash functions and
 * the soft-float tables. Written for boardemu from the RP2040 datasheet's description of the
 * ROM interface (section 2.8); float arithmetic comes from the compiler's runtime (libgcc) and
 * newlib's libm, so results are IEEE-754 round-to-nearest-even with full NaN/inf/denormal
 * handling. The ROM uses no RAM except the caller's stack. */
#include <stdint.h>
#include <math.h>
#include "rom.h"

void rom_enter(uint32_t entry);
void rom_resume(uint32_t pc, uint32_t sp);
void rom_no_boot2(void);
void rom_flash_range_erase(uint32_t offs, uint32_t count, uint32_t block_size, uint32_t cmd);
void rom_flash_range_program(uint32_t offs, const uint8_t *data, uint32_t count);
void rom_reset_usb_boot(uint32_t pin_mask, uint32_t disable_mask);
uint32_t table_lookup(const uint16_t *table, uint32_t code);

/* libm may set errno: give it a word in XIP SRAM (unused by firmware with the cache on) */
int *__errno(void) { return (int *)0x15003ffcu; }

/* ---- boot -------------------------------------------------------------------------------- */
static uint32_t crc32_mpeg2(const uint8_t *p, uint32_t n) {
    uint32_t crc = 0xffffffffu;
    while (n--) {
        crc ^= (uint32_t)*p++ << 24;
        for (int i = 0; i < 8; i++)
            crc = crc & 0x80000000u ? (crc << 1) ^ 0x04c11db7u : crc << 1;
    }
    return crc;
}

void rom_reset(void) {
    if (SIO_CPUID != 0)
        for (;;) __asm volatile("wfe");
    uint32_t magic = WATCHDOG_SCRATCH(4);
    if (magic == 0xb007c0d3u && WATCHDOG_SCRATCH(5) == (WATCHDOG_SCRATCH(7) ^ -magic)) {
        WATCHDOG_SCRATCH(4) = 0;
        rom_resume(WATCHDOG_SCRATCH(7), WATCHDOG_SCRATCH(6));
    }
    const uint32_t *src = (const uint32_t *)0x10000000u;
    uint32_t *dst = (uint32_t *)0x20041f00u;
    for (int i = 0; i < 64; i++)
        dst[i] = src[i];
    if (crc32_mpeg2((const uint8_t *)dst, 252) != dst[63])
        rom_no_boot2();
    rom_enter(0x20041f01u);
}

/* ---- memory and bits --------------------------------------------------------------------- */
uint8_t *rom_memset(uint8_t *ptr, uint32_t c, uint32_t n) {
    uint8_t *p = ptr;
    c &= 0xff;
    while (n && ((uintptr_t)p & 3)) { *p++ = (uint8_t)c; n--; }
    uint32_t w = c * 0x01010101u;
    while (n >= 16) {
        uint32_t *q = (uint32_t *)p;
        q[0] = w; q[1] = w; q[2] = w; q[3] = w;
        p += 16; n -= 16;
    }
    while (n >= 4) { *(uint32_t *)p = w; p += 4; n -= 4; }
    while (n--) *p++ = (uint8_t)c;
    return ptr;
}

uint32_t *rom_memset4(uint32_t *ptr, uint32_t c, uint32_t n) {
    rom_memset((uint8_t *)ptr, c, n);
    return ptr;
}

uint8_t *rom_memcpy(uint8_t *dest, const uint8_t *src, uint32_t n) {
    uint8_t *d = dest;
    if ((((uintptr_t)d ^ (uintptr_t)src) & 3) == 0) {
        while (n && ((uintptr_t)d & 3)) { *d++ = *src++; n--; }
        while (n >= 16) {
            const uint32_t *s = (const uint32_t *)src;
            uint32_t *q = (uint32_t *)d;
            uint32_t a = s[0], b = s[1], e = s[2], f = s[3];
            q[0] = a; q[1] = b; q[2] = e; q[3] = f;
            d += 16; src += 16; n -= 16;
        }
        while (n >= 4) { *(uint32_t *)d = *(const uint32_t *)src; d += 4; src += 4; n -= 4; }
    }
    while (n--) *d++ = *src++;
    return dest;
}

uint32_t *rom_memcpy44(uint32_t *dest, const uint32_t *src, uint32_t n) {
    rom_memcpy((uint8_t *)dest, (const uint8_t *)src, n);
    return dest;
}

uint32_t rom_popcount32(uint32_t v) {
    v = v - ((v >> 1) & 0x55555555u);
    v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
    v = (v + (v >> 4)) & 0x0f0f0f0fu;
    return (v * 0x01010101u) >> 24;
}

uint32_t rom_reverse32(uint32_t v) {
    v = ((v >> 1) & 0x55555555u) | ((v & 0x55555555u) << 1);
    v = ((v >> 2) & 0x33333333u) | ((v & 0x33333333u) << 2);
    v = ((v >> 4) & 0x0f0f0f0fu) | ((v & 0x0f0f0f0fu) << 4);
    v = ((v >> 8) & 0x00ff00ffu) | ((v & 0x00ff00ffu) << 8);
    return (v >> 16) | (v << 16);
}

uint32_t rom_clz32(uint32_t v) {
    if (!v) return 32;
    uint32_t n = 0;
    if (!(v & 0xffff0000u)) { n += 16; v <<= 16; }
    if (!(v & 0xff000000u)) { n += 8; v <<= 8; }
    if (!(v & 0xf0000000u)) { n += 4; v <<= 4; }
    if (!(v & 0xc0000000u)) { n += 2; v <<= 2; }
    if (!(v & 0x80000000u)) { n += 1; }
    return n;
}

uint32_t rom_ctz32(uint32_t v) {
    if (!v) return 32;
    return 31 - rom_clz32(v & -v);
}

/* ---- flash ------------------------------------------------------------------------------- */
void rom_connect_internal_flash(void) {
    IO_QSPI_SS_CTRL &= ~0x300u;                 /* chip select back to the SSI */
}

void rom_flash_exit_xip(void) {
    SSI_SSIENR = 0;
    SSI_BAUDR = 6;
    SSI_CTRLR0 = 7u << 16;                      /* standard SPI, 8-bit frames, TX and RX */
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
    SSI_CTRLR0 = (3u << 8) | (31u << 16);       /* EEPROM read, 32-bit frames */
    SSI_SSIENR = 1;
}

void rom_wait_for_vector(void) {
    for (;;) __asm volatile("wfe");
}

/* ---- soft float (SF) ------------------------------------------------------------------------ */
#define I32_MAX 2147483647
#define I32_MIN (-2147483647 - 1)

float sf_fadd(float a, float b) { return a + b; }
float sf_fsub(float a, float b) { return a - b; }
float sf_fmul(float a, float b) { return a * b; }
float sf_fdiv(float a, float b) { return a / b; }
int sf_fcmp(float a, float b) { return a < b ? -1 : a == b ? 0 : 1; }
float sf_fsqrt(float a) { return sqrtf(a); }

static int32_t f2i_floor(double x) {          /* towards -infinity, clamped; NaN -> 0 */
    if (x != x) return 0;
    if (x >= 2147483648.0) return I32_MAX;
    if (x < -2147483648.0) return I32_MIN;
    return (int32_t)floor(x);
}
static uint32_t f2u_floor(double x) {
    if (x != x || x <= 0.0) return 0;
    if (x >= 4294967296.0) return 0xffffffffu;
    return (uint32_t)floor(x);
}
static int64_t f2i64_floor(double x) {
    if (x != x) return 0;
    if (x >= 9223372036854775808.0) return INT64_MAX;
    if (x < -9223372036854775808.0) return INT64_MIN;
    return (int64_t)floor(x);
}
static uint64_t f2u64_floor(double x) {
    if (x != x || x <= 0.0) return 0;
    if (x >= 18446744073709551616.0) return UINT64_MAX;
    return (uint64_t)floor(x);
}

int32_t sf_float2int(float a) { return f2i_floor(a); }
int32_t sf_float2fix(float a, int n) { return f2i_floor(ldexp(a, n)); }
uint32_t sf_float2uint(float a) { return f2u_floor(a); }
uint32_t sf_float2ufix(float a, int n) { return f2u_floor(ldexp(a, n)); }
float sf_int2float(int32_t x) { return (float)x; }
float sf_fix2float(int32_t x, int n) { return ldexpf((float)x, -n); }
float sf_uint2float(uint32_t x) { return (float)x; }
float sf_ufix2float(uint32_t x, int n) { return ldexpf((float)x, -n); }
float sf_fcos(float a) { return cosf(a); }
float sf_fsin(float a) { return sinf(a); }
float sf_ftan(float a) { return tanf(a); }
float sf_fexp(float a) { return expf(a); }
float sf_fln(float a) { return logf(a); }
float sf_fatan2(float y, float x) { return atan2f(y, x); }
float sf_int642float(int64_t x) { return (float)x; }
float sf_fix642float(int64_t x, int n) { return ldexpf((float)x, -n); }
float sf_uint642float(uint64_t x) { return (float)x; }
float sf_ufix642float(uint64_t x, int n) { return ldexpf((float)x, -n); }
int64_t sf_float2int64(float a) { return f2i64_floor(a); }
int64_t sf_float2fix64(float a, int n) { return f2i64_floor(ldexp(a, n)); }
uint64_t sf_float2uint64(float a) { return f2u64_floor(a); }
uint64_t sf_float2ufix64(float a, int n) { return f2u64_floor(ldexp(a, n)); }
double sf_float2double(float a) { return a; }

/* ---- soft double (SD): the same slots for doubles ---------------------------------------- */
double sd_dadd(double a, double b) { return a + b; }
double sd_dsub(double a, double b) { return a - b; }
double sd_dmul(double a, double b) { return a * b; }
double sd_ddiv(double a, double b) { return a / b; }
int sd_dcmp(double a, double b) { return a < b ? -1 : a == b ? 0 : 1; }
double sd_dsqrt(double a) { return sqrt(a); }
int32_t sd_double2int(double a) { return f2i_floor(a); }
int32_t sd_double2fix(double a, int n) { return f2i_floor(ldexp(a, n)); }
uint32_t sd_double2uint(double a) { return f2u_floor(a); }
uint32_t sd_double2ufix(double a, int n) { return f2u_floor(ldexp(a, n)); }
double sd_int2double(int32_t x) { return x; }
double sd_fix2double(int32_t x, int n) { return ldexp((double)x, -n); }
double sd_uint2double(uint32_t x) { return x; }
double sd_ufix2double(uint32_t x, int n) { return ldexp((double)x, -n); }
double sd_dcos(double a) { return cos(a); }
double sd_dsin(double a) { return sin(a); }
double sd_dtan(double a) { return tan(a); }
double sd_dexp(double a) { return exp(a); }
double sd_dln(double a) { return log(a); }
double sd_datan2(double y, double x) { return atan2(y, x); }
double sd_int642double(int64_t x) { return (double)x; }
double sd_fix642double(int64_t x, int n) { return ldexp((double)x, -n); }
double sd_uint642double(uint64_t x) { return (double)x; }
double sd_ufix642double(uint64_t x, int n) { return ldexp((double)x, -n); }
int64_t sd_double2int64(double a) { return f2i64_floor(a); }
int64_t sd_double2fix64(double a, int n) { return f2i64_floor(ldexp(a, n)); }
uint64_t sd_double2uint64(double a) { return f2u64_floor(a); }
uint64_t sd_double2ufix64(double a, int n) { return f2u64_floor(ldexp(a, n)); }
float sd_double2float(double a) { return (float)a; }

void sf_fcmp_flags(void);
void sd_dcmp_flags(void);
void sf_fsincos(void);
void sd_dsincos(void);

/* ---- tables (pico-sdk slot order: sf_table.h) ---------------------------------------------- */
#define F(fn) ((uint32_t)(uintptr_t)(fn))
const uint32_t sf_table[32] __attribute__((aligned(4))) = {
    F(sf_fadd), F(sf_fsub), F(sf_fmul), F(sf_fdiv), F(sf_fcmp), F(sf_fcmp_flags), F(sf_fsqrt),
    F(sf_float2int), F(sf_float2fix), F(sf_float2uint), F(sf_float2ufix), F(sf_int2float),
    F(sf_fix2float), F(sf_uint2float), F(sf_ufix2float), F(sf_fcos), F(sf_fsin), F(sf_ftan),
    F(sf_fsincos), F(sf_fexp), F(sf_fln), F(sf_fcmp), F(sf_fatan2), F(sf_int642float),
    F(sf_fix642float), F(sf_uint642float), F(sf_ufix642float), F(sf_float2int64),
    F(sf_float2fix64), F(sf_float2uint64), F(sf_float2ufix64), F(sf_float2double),
};
const uint32_t sd_table[32] __attribute__((aligned(4))) = {
    F(sd_dadd), F(sd_dsub), F(sd_dmul), F(sd_ddiv), F(sd_dcmp), F(sd_dcmp_flags), F(sd_dsqrt),
    F(sd_double2int), F(sd_double2fix), F(sd_double2uint), F(sd_double2ufix), F(sd_int2double),
    F(sd_fix2double), F(sd_uint2double), F(sd_ufix2double), F(sd_dcos), F(sd_dsin), F(sd_dtan),
    F(sd_dsincos), F(sd_dexp), F(sd_dln), F(sd_dcmp), F(sd_datan2), F(sd_int642double),
    F(sd_fix642double), F(sd_uint642double), F(sd_ufix642double), F(sd_double2int64),
    F(sd_double2fix64), F(sd_double2uint64), F(sd_double2ufix64), F(sd_double2float),
};

