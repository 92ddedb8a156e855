/* RP2040 register definitions for the boardemu test programs, written from the RP2040
 * datasheet (2.1.2 atomic register access, 2.3.1 SIO, 2.4.8 NVIC/PPB, 2.14-2.15 RESETS/CLOCKS,
 * 2.16-2.18 XOSC/ROSC/PLL, 2.17 SYSINFO, 2.8 WATCHDOG, 4.2 UART, 4.6 TIMER, 2.19 IO/PADS).
 * Only the blocks the test programs use; fields the programs need are named.
 *
 * Atomic aliases on APB/AHB-Lite blocks (not SIO, not PPB): a write at +0x1000 XORs, at +0x2000
 * sets, at +0x3000 clears the written bits:  HW_SET(&RESETS->RESET) = bits; */
#ifndef RP2040_H
#define RP2040_H
#include <stdint.h>

typedef volatile uint32_t io_rw_32;
typedef const volatile uint32_t io_ro_32;

#define REG32(a) (*(io_rw_32 *)(a))
#define HW_ALIAS(reg, off) (*(io_rw_32 *)((uintptr_t)(reg) + (off)))
#define HW_XOR(reg) HW_ALIAS(reg, 0x1000u)
#define HW_SET(reg) HW_ALIAS(reg, 0x2000u)
#define HW_CLR(reg) HW_ALIAS(reg, 0x3000u)
#define XOR_ALIAS 0x1000u
#define SET_ALIAS 0x2000u
#define CLR_ALIAS 0x3000u

/* ---- address map ---------------------------------------------------------------------- */
#define ROM_BASE            0x00000000u
#define XIP_BASE            0x10000000u
#define XIP_NOALLOC_BASE    0x11000000u
#define XIP_NOCACHE_BASE    0x12000000u
#define XIP_NOCACHE_NOALLOC_BASE 0x13000000u
#define XIP_CTRL_BASE       0x14000000u
#define XIP_SRAM_BASE       0x15000000u
#define XIP_SSI_BASE        0x18000000u
#define SRAM_BASE           0x20000000u
#define SRAM4_BASE          0x20040000u
#define SRAM5_BASE          0x20041000u
#define SRAM_END            0x20042000u
#define SYSINFO_BASE        0x40000000u
#define SYSCFG_BASE         0x40004000u
#define CLOCKS_BASE         0x40008000u
#define RESETS_BASE         0x4000c000u
#define PSM_BASE            0x40010000u
#define IO_BANK0_BASE       0x40014000u
#define IO_QSPI_BASE        0x40018000u
#define PADS_BANK0_BASE     0x4001c000u
#define PADS_QSPI_BASE      0x40020000u
#define XOSC_BASE           0x40024000u
#define PLL_SYS_BASE        0x40028000u
#define PLL_USB_BASE        0x4002c000u
#define BUSCTRL_BASE        0x40030000u
#define UART0_BASE          0x40034000u
#define UART1_BASE          0x40038000u
#define SPI0_BASE           0x4003c000u
#define SPI1_BASE           0x40040000u
#define I2C0_BASE           0x40044000u
#define I2C1_BASE           0x40048000u
#define ADC_BASE            0x4004c000u
#define PWM_BASE            0x40050000u
#define TIMER_BASE          0x40054000u
#define WATCHDOG_BASE       0x40058000u
#define RTC_BASE            0x4005c000u
#define ROSC_BASE           0x40060000u
#define VREG_AND_CHIP_RESET_BASE 0x40064000u
#define TBMAN_BASE          0x4006c000u
#define DMA_BASE            0x50000000u
#define USBCTRL_DPRAM_BASE  0x50100000u
#define USBCTRL_REGS_BASE   0x50110000u
#define PIO0_BASE           0x50200000u
#define PIO1_BASE           0x50300000u
#define SIO_BASE            0xd0000000u
#define PPB_BASE            0xe0000000u

/* ---- IRQ numbers (datasheet 2.3.2) ------------------------------------------------------ */
enum {
    TIMER_IRQ_0 = 0, TIMER_IRQ_1, TIMER_IRQ_2, TIMER_IRQ_3, PWM_IRQ_WRAP, USBCTRL_IRQ, XIP_IRQ,
    PIO0_IRQ_0, PIO0_IRQ_1, PIO1_IRQ_0, PIO1_IRQ_1, DMA_IRQ_0, DMA_IRQ_1, IO_IRQ_BANK0,
    IO_IRQ_QSPI, SIO_IRQ_PROC0, SIO_IRQ_PROC1, CLOCKS_IRQ, SPI0_IRQ, SPI1_IRQ, UART0_IRQ,
    UART1_IRQ, ADC_IRQ_FIFO, I2C0_IRQ, I2C1_IRQ, RTC_IRQ,
};

/* ---- SYSINFO ---------------------------------------------------------------------------- */
typedef struct {
    io_ro_32 CHIP_ID;           /* 0x00: REVISION 31:28, PART 27:12 (0x0002), MANUFACTURER 11:0 (0x927) */
    io_ro_32 PLATFORM;          /* 0x04: ASIC bit1, FPGA bit0 */
    uint32_t _r[14];
    io_ro_32 GITREF_RP2040;     /* 0x40 */
} sysinfo_hw_t;
#define SYSINFO ((sysinfo_hw_t *)SYSINFO_BASE)

/* ---- RESETS ----------------------------------------------------------------------------- */
typedef struct {
    io_rw_32 RESET;             /* 0x00: 1 = held in reset */
    io_rw_32 WDSEL;             /* 0x04: reset by the watchdog */
    io_ro_32 RESET_DONE;        /* 0x08: 1 = out of reset and ready */
} resets_hw_t;
#define RESETS ((resets_hw_t *)RESETS_BASE)
#define RESET_ADC        (1u << 0)
#define RESET_BUSCTRL    (1u << 1)
#define RESET_DMA        (1u << 2)
#define RESET_I2C0       (1u << 3)
#define RESET_I2C1       (1u << 4)
#define RESET_IO_BANK0   (1u << 5)
#define RESET_IO_QSPI    (1u << 6)
#define RESET_JTAG       (1u << 7)
#define RESET_PADS_BANK0 (1u << 8)
#define RESET_PADS_QSPI  (1u << 9)
#define RESET_PIO0       (1u << 10)
#define RESET_PIO1       (1u << 11)
#define RESET_PLL_SYS    (1u << 12)
#define RESET_PLL_USB    (1u << 13)
#define RESET_PWM        (1u << 14)
#define RESET_RTC        (1u << 15)
#define RESET_SPI0       (1u << 16)
#define RESET_SPI1       (1u << 17)
#define RESET_SYSCFG     (1u << 18)
#define RESET_SYSINFO    (1u << 19)
#define RESET_TBMAN      (1u << 20)
#define RESET_TIMER      (1u << 21)
#define RESET_UART0      (1u << 22)
#define RESET_UART1      (1u << 23)
#define RESET_USBCTRL    (1u << 24)
#define RESET_ALL        0x01ffffffu

/* ---- PSM -------------------------------------------------------------------------------- */
typedef struct {
    io_rw_32 FRCE_ON, FRCE_OFF, WDSEL;
    io_ro_32 DONE;
} psm_hw_t;
#define PSM ((psm_hw_t *)PSM_BASE)
/* one bit per power domain (FRCE_ON, FRCE_OFF, WDSEL, DONE) */
#define PSM_ROSC      (1u << 0)
#define PSM_XOSC      (1u << 1)
#define PSM_CLOCKS    (1u << 2)
#define PSM_RESETS    (1u << 3)
#define PSM_BUSFABRIC (1u << 4)
#define PSM_ROM       (1u << 5)
#define PSM_SRAM0     (1u << 6)         /* SRAM0..5: bits 6..11 */
#define PSM_XIP       (1u << 12)
#define PSM_VREG_AND_CHIP_RESET (1u << 13)
#define PSM_SIO       (1u << 14)
#define PSM_PROC0 (1u << 15)
#define PSM_PROC1 (1u << 16)
#define PSM_ALL   0x0001ffffu

/* ---- WATCHDOG --------------------------------------------------------------------------- */
typedef struct {
    io_rw_32 CTRL;              /* 0x00 */
    io_rw_32 LOAD;              /* 0x04: write-only, counts down 2 per tick (RP2040-E1) */
    io_ro_32 REASON;            /* 0x08 */
    io_rw_32 SCRATCH[8];        /* 0x0c..0x28: kept across a watchdog reset */
    io_rw_32 TICK;              /* 0x2c */
} watchdog_hw_t;
#define WATCHDOG ((watchdog_hw_t *)WATCHDOG_BASE)
#define WATCHDOG_CTRL_TRIGGER      (1u << 31)
#define WATCHDOG_CTRL_ENABLE       (1u << 30)
#define WATCHDOG_CTRL_PAUSE_DBG1   (1u << 26)
#define WATCHDOG_CTRL_PAUSE_DBG0   (1u << 25)
#define WATCHDOG_CTRL_PAUSE_JTAG   (1u << 24)
#define WATCHDOG_CTRL_TIME_MASK    0x00ffffffu
#define WATCHDOG_REASON_TIMER      (1u << 0)
#define WATCHDOG_REASON_FORCE      (1u << 1)
#define WATCHDOG_TICK_ENABLE       (1u << 9)
#define WATCHDOG_TICK_RUNNING      (1u << 10)
#define WATCHDOG_TICK_CYCLES_MASK  0x1ffu
/* boot ROM: SCRATCH4 = this magic, SCRATCH5 = SCRATCH7 ^ -magic: jump to SCRATCH7 with
 * SP = SCRATCH6 instead of booting flash (the ROM clears SCRATCH4 first) */
#define WATCHDOG_BOOT_MAGIC        0xb007c0d3u

/* ---- TIMER (1 µs ticks) ----------------------------------------------------------------- */
typedef struct {
    io_rw_32 TIMEHW;            /* 0x00: write high, then low (TIMELW) */
    io_rw_32 TIMELW;            /* 0x04 */
    io_ro_32 TIMEHR;            /* 0x08: latched when TIMELR is read */
    io_ro_32 TIMELR;            /* 0x0c */
    io_rw_32 ALARM[4];          /* 0x10..0x1c: writing arms; fires when TIMELR == ALARM */
    io_rw_32 ARMED;             /* 0x20: write 1 to disarm */
    io_ro_32 TIMERAWH;          /* 0x24 */
    io_ro_32 TIMERAWL;          /* 0x28 */
    io_rw_32 DBGPAUSE;          /* 0x2c */
    io_rw_32 PAUSE;             /* 0x30 */
    io_rw_32 INTR;              /* 0x34: raw, write 1 to clear */
    io_rw_32 INTE;              /* 0x38 */
    io_rw_32 INTF;              /* 0x3c: force */
    io_ro_32 INTS;              /* 0x40: (INTR | INTF) & INTE */
} timer_hw_t;
#define TIMER ((timer_hw_t *)TIMER_BASE)
#define TIMER_DBGPAUSE_DBG0 (1u << 1)   /* pause while debugger on core 0 halts it */
#define TIMER_DBGPAUSE_DBG1 (1u << 2)

/* ---- SIO (no atomic aliases) ----------------------------------------------------------- */
typedef struct {
    io_ro_32 CPUID;             /* 0x00 */
    io_ro_32 GPIO_IN;           /* 0x04 */
    io_ro_32 GPIO_HI_IN;        /* 0x08 */
    uint32_t _r0;
    io_rw_32 GPIO_OUT;          /* 0x10 */
    io_rw_32 GPIO_OUT_SET;      /* 0x14 */
    io_rw_32 GPIO_OUT_CLR;      /* 0x18 */
    io_rw_32 GPIO_OUT_XOR;      /* 0x1c */
    io_rw_32 GPIO_OE;           /* 0x20 */
    io_rw_32 GPIO_OE_SET;       /* 0x24 */
    io_rw_32 GPIO_OE_CLR;       /* 0x28 */
    io_rw_32 GPIO_OE_XOR;       /* 0x2c */
    io_rw_32 GPIO_HI_OUT;       /* 0x30 */
    io_rw_32 GPIO_HI_OUT_SET;   /* 0x34 */
    io_rw_32 GPIO_HI_OUT_CLR;   /* 0x38 */
    io_rw_32 GPIO_HI_OUT_XOR;   /* 0x3c */
    io_rw_32 GPIO_HI_OE;        /* 0x40 */
    io_rw_32 GPIO_HI_OE_SET;    /* 0x44 */
    io_rw_32 GPIO_HI_OE_CLR;    /* 0x48 */
    io_rw_32 GPIO_HI_OE_XOR;    /* 0x4c */
    io_rw_32 FIFO_ST;           /* 0x50: VLD bit0, RDY bit1, WOF bit2, ROE bit3 */
    io_rw_32 FIFO_WR;           /* 0x54 */
    io_ro_32 FIFO_RD;           /* 0x58 */
    io_ro_32 SPINLOCK_ST;       /* 0x5c */
    io_rw_32 DIV_UDIVIDEND;     /* 0x60 */
    io_rw_32 DIV_UDIVISOR;      /* 0x64 */
    io_rw_32 DIV_SDIVIDEND;     /* 0x68 */
    io_rw_32 DIV_SDIVISOR;      /* 0x6c */
    io_rw_32 DIV_QUOTIENT;      /* 0x70 */
    io_rw_32 DIV_REMAINDER;     /* 0x74 */
    io_ro_32 DIV_CSR;           /* 0x78: READY bit0, DIRTY bit1 */
    uint32_t _r1;
    io_rw_32 INTERP0[16];       /* 0x80 */
    io_rw_32 INTERP1[16];       /* 0xc0 */
    io_rw_32 SPINLOCK[32];      /* 0x100: read claims (nonzero = got it), write releases */
} sio_hw_t;
#define SIO ((sio_hw_t *)SIO_BASE)
#define SIO_FIFO_ST_VLD (1u << 0)
#define SIO_FIFO_ST_RDY (1u << 1)
#define SIO_FIFO_ST_WOF (1u << 2)
#define SIO_FIFO_ST_ROE (1u << 3)
#define SIO_DIV_CSR_READY (1u << 0)
#define SIO_DIV_CSR_DIRTY (1u << 1)

/* ---- IO_BANK0 --------------------------------------------------------------------------- */
typedef struct {
    struct { io_ro_32 STATUS; io_rw_32 CTRL; } GPIO[30];   /* 0x000..0x0ec */
    io_rw_32 INTR[4];           /* 0x0f0: 4 bits per pin (LEVEL_LOW, LEVEL_HIGH, EDGE_LOW, EDGE_HIGH) */
    io_rw_32 PROC0_INTE[4];     /* 0x100 */
    io_rw_32 PROC0_INTF[4];     /* 0x110 */
    io_ro_32 PROC0_INTS[4];     /* 0x120 */
    io_rw_32 PROC1_INTE[4];     /* 0x130 */
    io_rw_32 PROC1_INTF[4];     /* 0x140 */
    io_ro_32 PROC1_INTS[4];     /* 0x150 */
    io_rw_32 DORMANT_WAKE_INTE[4];  /* 0x160 */
    io_rw_32 DORMANT_WAKE_INTF[4];  /* 0x170 */
    io_ro_32 DORMANT_WAKE_INTS[4];  /* 0x180 */
} io_bank0_hw_t;
#define IO_BANK0 ((io_bank0_hw_t *)IO_BANK0_BASE)
/* CTRL: FUNCSEL 4:0, OUTOVER 9:8, OEOVER 13:12, INOVER 17:16, IRQOVER 29:28; each override
 * field: 0 = normal, 1 = invert, 2 = drive low / disable, 3 = drive high / enable */
#define GPIO_CTRL_OUTOVER_SHIFT 8
#define GPIO_CTRL_OEOVER_SHIFT  12
#define GPIO_CTRL_INOVER_SHIFT  16
#define GPIO_CTRL_IRQOVER_SHIFT 28
#define GPIO_OVER_NORMAL 0u
#define GPIO_OVER_INVERT 1u
#define GPIO_OVER_LOW    2u
#define GPIO_OVER_HIGH   3u
#define GPIO_FUNC_SPI   1u
#define GPIO_FUNC_UART  2u
#define GPIO_FUNC_I2C   3u
#define GPIO_FUNC_PWM   4u
#define GPIO_FUNC_SIO   5u
#define GPIO_FUNC_PIO0  6u
#define GPIO_FUNC_PIO1  7u
#define GPIO_FUNC_GPCK  8u
#define GPIO_FUNC_USB   9u
#define GPIO_FUNC_NULL  0x1fu
/* STATUS: OUTFROMPERI 8, OUTTOPAD 9, OEFROMPERI 12, OETOPAD 13, INFROMPAD 17, INTOPERI 19,
 * IRQFROMPAD 24, IRQTOPROC 26 */
#define GPIO_STATUS_OUTTOPAD  (1u << 9)
#define GPIO_STATUS_OETOPAD   (1u << 13)
#define GPIO_STATUS_INFROMPAD (1u << 17)
#define GPIO_INT_LEVEL_LOW  1u
#define GPIO_INT_LEVEL_HIGH 2u
#define GPIO_INT_EDGE_LOW   4u
#define GPIO_INT_EDGE_HIGH  8u

/* ---- PADS_BANK0 ------------------------------------------------------------------------- */
typedef struct {
    io_rw_32 VOLTAGE_SELECT;    /* 0x00 */
    io_rw_32 GPIO[30];          /* 0x04 + 4n */
    io_rw_32 SWCLK, SWD;        /* 0x7c, 0x80 */
} pads_bank0_hw_t;
#define PADS_BANK0 ((pads_bank0_hw_t *)PADS_BANK0_BASE)
#define PADS_SLEWFAST (1u << 0)
#define PADS_SCHMITT  (1u << 1)
#define PADS_PDE      (1u << 2)
#define PADS_PUE      (1u << 3)
#define PADS_DRIVE_SHIFT 4
#define PADS_IE       (1u << 6)
#define PADS_OD       (1u << 7)

/* ---- CLOCKS ----------------------------------------------------------------------------- */
typedef struct { io_rw_32 CTRL, DIV; io_ro_32 SELECTED; } clock_hw_t;
enum { CLK_GPOUT0 = 0, CLK_GPOUT1, CLK_GPOUT2, CLK_GPOUT3, CLK_REF, CLK_SYS, CLK_PERI, CLK_USB,
       CLK_ADC, CLK_RTC, CLK_COUNT };
typedef struct {
    clock_hw_t CLK[CLK_COUNT];  /* 0x00..0x74; CLK[CLK_REF] at 0x30, CLK[CLK_SYS] at 0x3c */
    io_rw_32 SYS_RESUS_CTRL;    /* 0x78 */
    io_ro_32 SYS_RESUS_STATUS;  /* 0x7c */
    io_rw_32 FC0_REF_KHZ;       /* 0x80 */
    io_rw_32 FC0_MIN_KHZ, FC0_MAX_KHZ, FC0_DELAY, FC0_INTERVAL, FC0_SRC;   /* 0x84..0x94 */
    io_ro_32 FC0_STATUS;        /* 0x98 */
    io_ro_32 FC0_RESULT;        /* 0x9c */
    io_rw_32 WAKE_EN0, WAKE_EN1, SLEEP_EN0, SLEEP_EN1;                     /* 0xa0..0xac */
    io_ro_32 ENABLED0, ENABLED1;                                           /* 0xb0, 0xb4 */
    io_ro_32 INTR;              /* 0xb8 */
    io_rw_32 INTE, INTF;        /* 0xbc, 0xc0 */
    io_ro_32 INTS;              /* 0xc4 */
} clocks_hw_t;
#define CLOCKS ((clocks_hw_t *)CLOCKS_BASE)
#define CLK_CTRL_ENABLE (1u << 11)      /* not on clk_ref / clk_sys */
#define CLK_CTRL_KILL   (1u << 10)
#define CLK_CTRL_AUXSRC_SHIFT 5
#define CLK_REF_SRC_ROSC   0u           /* clk_ref CTRL.SRC (1:0) */
#define CLK_REF_SRC_AUX    1u
#define CLK_REF_SRC_XOSC   2u
#define CLK_SYS_SRC_REF    0u           /* clk_sys CTRL.SRC (bit0) */
#define CLK_SYS_SRC_AUX    1u
#define CLK_SYS_AUX_PLL_SYS 0u          /* clk_sys CTRL.AUXSRC (7:5) */
#define CLK_SYS_AUX_PLL_USB 1u
#define CLK_SYS_AUX_ROSC    2u
#define CLK_SYS_AUX_XOSC    3u
#define CLK_PERI_AUX_SYS    0u          /* clk_peri CTRL.AUXSRC */
#define CLK_USB_AUX_PLL_USB 0u          /* clk_usb / clk_adc / clk_rtc CTRL.AUXSRC */
#define CLK_DIV_INT_SHIFT 8             /* DIV: integer 31:8, fraction 7:0 */
/* FC0_SRC: the clock the frequency counter measures (a write starts a count) */
#define FC0_SRC_NULL          0x00u
#define FC0_SRC_PLL_SYS       0x01u     /* pll_sys_clksrc_primary */
#define FC0_SRC_PLL_USB       0x02u     /* pll_usb_clksrc_primary */
#define FC0_SRC_ROSC          0x03u
#define FC0_SRC_ROSC_PH       0x04u
#define FC0_SRC_XOSC          0x05u
#define FC0_SRC_GPIN0         0x06u
#define FC0_SRC_GPIN1         0x07u
#define FC0_SRC_CLK_REF       0x08u
#define FC0_SRC_CLK_SYS       0x09u
#define FC0_SRC_CLK_PERI      0x0au
#define FC0_SRC_CLK_USB       0x0bu
#define FC0_SRC_CLK_ADC       0x0cu
#define FC0_SRC_CLK_RTC       0x0du
#define FC0_STATUS_RUNNING (1u << 8)
#define FC0_STATUS_DONE    (1u << 4)
#define FC0_STATUS_PASS    (1u << 0)
#define FC0_RESULT_KHZ_SHIFT 5          /* RESULT: KHZ 29:5, FRAC 4:0 */

/* ---- XOSC ------------------------------------------------------------------------------- */
typedef struct {
    io_rw_32 CTRL;              /* 0x00: ENABLE 23:12 (0xfab on, 0xd1e off), FREQ_RANGE 11:0 */
    io_rw_32 STATUS;            /* 0x04: STABLE bit31, BADWRITE bit24 (W1C), ENABLED bit12 */
    io_rw_32 DORMANT;           /* 0x08 */
    io_rw_32 STARTUP;           /* 0x0c: DELAY 13:0 (x256 cycles), X4 bit20 */
    uint32_t _r[3];
    io_rw_32 COUNT;             /* 0x1c */
} xosc_hw_t;
#define XOSC ((xosc_hw_t *)XOSC_BASE)
#define XOSC_CTRL_ENABLE_VALUE  (0xfabu << 12)
#define XOSC_CTRL_DISABLE_VALUE (0xd1eu << 12)
#define XOSC_CTRL_FREQ_1_15MHZ  0xaa0u
#define XOSC_STATUS_STABLE      (1u << 31)

/* ---- ROSC ------------------------------------------------------------------------------- */
typedef struct {
    io_rw_32 CTRL;              /* 0x00: ENABLE 23:12 (0xfab / 0xd1e), FREQ_RANGE 11:0 */
    io_rw_32 FREQA, FREQB;      /* 0x04, 0x08 */
    io_rw_32 DORMANT;           /* 0x0c */
    io_rw_32 DIV;               /* 0x10: 0xaa0 + n */
    io_rw_32 PHASE;             /* 0x14 */
    io_rw_32 STATUS;            /* 0x18: STABLE bit31, ENABLED bit12 */
    io_ro_32 RANDOMBIT;         /* 0x1c: bit0 */
    io_rw_32 COUNT;             /* 0x20 */
} rosc_hw_t;
#define ROSC ((rosc_hw_t *)ROSC_BASE)
#define ROSC_STATUS_STABLE (1u << 31)

/* ---- PLL_SYS / PLL_USB ------------------------------------------------------------------ */
typedef struct {
    io_rw_32 CS;                /* 0x00: LOCK bit31, BYPASS bit8, REFDIV 5:0 */
    io_rw_32 PWR;               /* 0x04: VCOPD bit5, POSTDIVPD bit3, DSMPD bit2, PD bit0 */
    io_rw_32 FBDIV_INT;         /* 0x08: 11:0 */
    io_rw_32 PRIM;              /* 0x0c: POSTDIV1 18:16, POSTDIV2 14:12 */
} pll_hw_t;
#define PLL_SYS ((pll_hw_t *)PLL_SYS_BASE)
#define PLL_USB ((pll_hw_t *)PLL_USB_BASE)
#define PLL_CS_LOCK         (1u << 31)
#define PLL_CS_BYPASS       (1u << 8)
#define PLL_PWR_VCOPD       (1u << 5)
#define PLL_PWR_POSTDIVPD   (1u << 3)
#define PLL_PWR_DSMPD       (1u << 2)
#define PLL_PWR_PD          (1u << 0)
#define PLL_PRIM_POSTDIV1_SHIFT 16
#define PLL_PRIM_POSTDIV2_SHIFT 12

/* ---- UART0 / UART1 (ARM PL011) ---------------------------------------------------------- */
typedef struct {
    io_rw_32 DR;                /* 0x00: data 7:0, FE 8, PE 9, BE 10, OE 11 */
    io_rw_32 RSR;               /* 0x04 */
    uint32_t _r0[4];
    io_ro_32 FR;                /* 0x18 */
    uint32_t _r1;
    io_rw_32 ILPR;              /* 0x20 */
    io_rw_32 IBRD;              /* 0x24 */
    io_rw_32 FBRD;              /* 0x28 */
    io_rw_32 LCR_H;             /* 0x2c */
    io_rw_32 CR;                /* 0x30 */
    io_rw_32 IFLS;              /* 0x34 */
    io_rw_32 IMSC;              /* 0x38 */
    io_ro_32 RIS;               /* 0x3c */
    io_ro_32 MIS;               /* 0x40 */
    io_rw_32 ICR;               /* 0x44 */
    io_rw_32 DMACR;             /* 0x48 */
} uart_hw_t;
#define UART0 ((uart_hw_t *)UART0_BASE)
#define UART1 ((uart_hw_t *)UART1_BASE)
#define UART_FR_TXFE (1u << 7)
#define UART_FR_RXFF (1u << 6)
#define UART_FR_TXFF (1u << 5)
#define UART_FR_RXFE (1u << 4)
#define UART_FR_BUSY (1u << 3)
#define UART_LCR_H_WLEN_8 (3u << 5)
#define UART_LCR_H_FEN    (1u << 4)
#define UART_CR_RXE    (1u << 9)
#define UART_CR_TXE    (1u << 8)
#define UART_CR_LBE    (1u << 7)
#define UART_CR_UARTEN (1u << 0)
#define UART_INT_OE (1u << 10)
#define UART_INT_BE (1u << 9)
#define UART_INT_PE (1u << 8)
#define UART_INT_FE (1u << 7)
#define UART_INT_RT (1u << 6)
#define UART_INT_TX (1u << 5)
#define UART_INT_RX (1u << 4)

/* ---- RTC (clk_rtc / (CLKDIV_M1 + 1) = 1 Hz) ------------------------------------------------ */
typedef struct {
    io_rw_32 CLKDIV_M1;         /* 0x00: 15:0 */
    io_rw_32 SETUP_0;           /* 0x04: YEAR 23:12, MONTH 11:8, DAY 4:0 (loaded by CTRL.LOAD) */
    io_rw_32 SETUP_1;           /* 0x08: DOTW 26:24, HOUR 20:16, MIN 13:8, SEC 5:0 */
    io_rw_32 CTRL;              /* 0x0c */
    io_rw_32 IRQ_SETUP_0;       /* 0x10: MATCH_ACTIVE 29, MATCH_ENA 28, YEAR/MONTH/DAY_ENA 26..24,
                                   YEAR 23:12, MONTH 11:8, DAY 4:0 */
    io_rw_32 IRQ_SETUP_1;       /* 0x14: DOTW/HOUR/MIN/SEC_ENA 31..28, DOTW 26:24, HOUR 20:16,
                                   MIN 13:8, SEC 5:0 */
    io_ro_32 RTC_1;             /* 0x18: YEAR 23:12, MONTH 11:8, DAY 4:0 (latched by reading RTC_0) */
    io_ro_32 RTC_0;             /* 0x1c: DOTW 26:24, HOUR 20:16, MIN 13:8, SEC 5:0; read first */
    io_ro_32 INTR;              /* 0x20: RTC bit 0 */
    io_rw_32 INTE, INTF;        /* 0x24, 0x28 */
    io_ro_32 INTS;              /* 0x2c */
} rtc_hw_t;
#define RTC ((rtc_hw_t *)RTC_BASE)
#define RTC_CTRL_FORCE_NOTLEAP (1u << 8)
#define RTC_CTRL_LOAD          (1u << 4)
#define RTC_CTRL_ACTIVE        (1u << 1)
#define RTC_CTRL_ENABLE        (1u << 0)
#define RTC_IRQ0_MATCH_ACTIVE  (1u << 29)
#define RTC_IRQ0_MATCH_ENA     (1u << 28)
#define RTC_IRQ0_YEAR_ENA      (1u << 26)
#define RTC_IRQ0_MONTH_ENA     (1u << 25)
#define RTC_IRQ0_DAY_ENA       (1u << 24)
#define RTC_IRQ1_DOTW_ENA      (1u << 31)
#define RTC_IRQ1_HOUR_ENA      (1u << 30)
#define RTC_IRQ1_MIN_ENA       (1u << 29)
#define RTC_IRQ1_SEC_ENA       (1u << 28)
#define RTC_DATE(y, m, d)      ((uint32_t)(y) << 12 | (uint32_t)(m) << 8 | (uint32_t)(d))
#define RTC_TIME(w, h, mi, s)  ((uint32_t)(w) << 24 | (uint32_t)(h) << 16 | (uint32_t)(mi) << 8 | (uint32_t)(s))
#define RTC_CLK_HZ             46875u   /* clk_rtc from pll_usb 48 MHz / 1024, as the SDK sets it */

/* ---- XIP control and SSI ---------------------------------------------------------------- */
typedef struct {
    io_rw_32 CTRL;              /* 0x00: EN bit0, ERR_BADWRITE bit1, POWER_DOWN bit3 */
    io_rw_32 FLUSH;             /* 0x04 */
    io_ro_32 STAT;              /* 0x08: FLUSH_READY bit0 */
} xip_ctrl_hw_t;
#define XIP_CTRL ((xip_ctrl_hw_t *)XIP_CTRL_BASE)

/* ---- PPB: NVIC, SCB, SysTick (ARMv6-M; no atomic aliases) -------------------------------- */
#define SYST_CSR    REG32(0xe000e010u)
#define SYST_RVR    REG32(0xe000e014u)
#define SYST_CVR    REG32(0xe000e018u)
#define NVIC_ISER   REG32(0xe000e100u)
#define NVIC_ICER   REG32(0xe000e180u)
#define NVIC_ISPR   REG32(0xe000e200u)
#define NVIC_ICPR   REG32(0xe000e280u)
#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_TICKINT   (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)    /* 1 = processor clock */
#define SYST_CSR_COUNTFLAG (1u << 16)
#define NVIC_IPR(n) REG32(0xe000e400u + 4u * (n))    /* 4 IRQs per word, top 2 bits of each byte */
#define SCB_CPUID   REG32(0xe000ed00u)
#define SCB_ICSR    REG32(0xe000ed04u)
#define SCB_VTOR    REG32(0xe000ed08u)
#define SCB_AIRCR   REG32(0xe000ed0cu)
#define SCB_SCR     REG32(0xe000ed10u)
#define SCB_SHPR2   REG32(0xe000ed1cu)
#define SCB_SHPR3   REG32(0xe000ed20u)
#define ICSR_PENDSVSET (1u << 28)
#define AIRCR_SYSRESETREQ (0x05fa0000u | (1u << 2))
#define SCR_SEVONPEND (1u << 4)
#define SCR_SLEEPDEEP (1u << 2)

static inline void irq_enable(unsigned n) { NVIC_ICPR = 1u << n; NVIC_ISER = 1u << n; }
static inline void irq_disable(unsigned n) { NVIC_ICER = 1u << n; }

/* ---- boot ROM (datasheet 2.8.3) --------------------------------------------------------- */
#define ROM_TABLE_CODE(c1, c2) ((uint32_t)(c1) | ((uint32_t)(c2) << 8))
typedef uint32_t (*rom_table_lookup_fn)(const uint16_t *table, uint32_t code);
static inline uint32_t rom_hword(uintptr_t addr) {     /* hides the small constant address from GCC */
    const volatile uint16_t *p;
    __asm("" : "=r"(p) : "0"(addr));
    return *p;
}
static inline void *rom_table_lookup(uintptr_t table_ptr, uint32_t code) {
    rom_table_lookup_fn lookup = (rom_table_lookup_fn)(uintptr_t)rom_hword(0x18u);
    return (void *)(uintptr_t)lookup((const uint16_t *)(uintptr_t)rom_hword(table_ptr), code);
}
#define rom_func_lookup(code) rom_table_lookup(0x14u, (code))   /* function table */
#define rom_data_lookup(code) rom_table_lookup(0x16u, (code))   /* data table */

#endif
