/* boardemu clean-room RP2040 boot ROM: registers it touches (RP2040 datasheet). */
#ifndef ROM_H
#define ROM_H
#include <stdint.h>
#define REG(a) (*(volatile uint32_t *)(a))
#define WATCHDOG_SCRATCH(n) REG(0x4005800cu + 4u * (n))
#define SSI_CTRLR0 REG(0x18000000u)
#define SSI_SSIENR REG(0x18000008u)
#define SSI_SER REG(0x18000010u)
#define SSI_BAUDR REG(0x18000014u)
#define XIP_CTRL_FLUSH REG(0x14000004u)
#define IO_QSPI_SS_CTRL REG(0x4001800cu)
#endif
