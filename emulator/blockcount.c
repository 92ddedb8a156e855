/* Block-granular instruction counter for the Cortex-M core (boardemu).
 *
 * unicorn's own counted mode (emu_start(count=n)) calls a hook helper on every instruction
 * (~7x slower than free-running translated code). This hook runs once per translated block,
 * before the block executes: it adds the block's instruction count to `executed` and stops
 * emulation (cleanly, before the block) once `executed` has reached `budget`.
 *
 * The instruction count of a block comes from its Thumb code: a halfword whose top five bits
 * are 0b11101, 0b11110 or 0b11111 starts a 32-bit instruction, anything else is 16-bit. Counts
 * are cached per (address, size) in a direct-mapped table (with the watched-site flag).
 *
 * Watched sites: a block starting at one of up to MAX_SITES addresses first calls `notify`
 * (a Python callback: the instruction before it unmasked interrupts), which may lower the
 * budget to end the burst right there. Keeping these in this one hook matters: unicorn walks
 * every block hook's bounds for every block once any hook covers all addresses.
 *
 * No unicorn header is needed: the two engine functions used are passed in as pointers, so the
 * library binds to exactly the libunicorn the Python binding loaded.
 */
#include <stdint.h>

typedef int (*mem_read_fn)(void *uc, uint64_t addr, void *buf, uint64_t size);
typedef int (*emu_stop_fn)(void *uc);
typedef void (*notify_fn)(uint64_t addr);

#define CACHE_SLOTS 8192u       /* 64 KiB of entries: the hot loop's blocks stay in cache */
#define MAX_SITES 1024u
#define SITE 0x8000u            /* entry.info: the block starts at a watched site */

struct entry {
    uint32_t addr;
    uint16_t size;              /* bytes (a block is at most 512 instructions) */
    uint16_t info;              /* instruction count | SITE */
};

struct counter {
    mem_read_fn mem_read;
    emu_stop_fn emu_stop;
    uint64_t executed;          /* instructions of the blocks entered in this burst */
    uint64_t budget;            /* stop before the first block that starts at or past this */
    uint32_t budget_stop;       /* set when this hook ended the burst */
    uint32_t misses;
    notify_fn notify;
    uint32_t nsites;
    uint32_t pad;
    uint64_t sites[MAX_SITES];  /* sorted */
    struct entry cache[CACHE_SLOTS];
};

static int is_site(const struct counter *c, uint64_t addr)
{
    uint32_t lo = 0, hi = c->nsites;

    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (c->sites[mid] == addr)
            return 1;
        if (c->sites[mid] < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static uint32_t count_thumb(struct counter *c, void *uc, uint64_t addr, uint32_t size)
{
    uint8_t buf[2048];
    uint32_t n = 0, i = 0;

    if (size == 0)
        return 1;
    if (size > sizeof buf || c->mem_read(uc, addr, buf, size) != 0)
        return (size + 1) / 2;
    while (i < size) {
        uint32_t hw = buf[i] | (i + 1 < size ? (uint32_t)buf[i + 1] << 8 : 0);
        i += (hw >> 11) >= 0x1d ? 4 : 2;
        n++;
    }
    return n;
}

__attribute__((noinline, cold))
static void fill(struct counter *c, void *uc, struct entry *e, uint64_t addr, uint32_t size)
{
    uint32_t n = count_thumb(c, uc, addr, size);

    e->addr = (uint32_t)addr;
    e->size = (uint16_t)size;
    e->info = (uint16_t)((n > 0x7fff ? 0x7fff : n) | (c->nsites && is_site(c, addr) ? SITE : 0));
    c->misses++;
}

__attribute__((noinline, cold))
static void stop(struct counter *c, void *uc)
{
    c->budget_stop = 1;
    c->emu_stop(uc);
}

__attribute__((noinline))
static int at_site(struct counter *c, void *uc, uint64_t addr)
{
    if (c->notify)
        c->notify(addr);
    if (c->executed >= c->budget) {
        stop(c, uc);
        return 1;
    }
    return 0;
}

void be_block_hook(void *uc, uint64_t addr, uint32_t size, void *user)
{
    struct counter *c = user;
    struct entry *e = &c->cache[(addr >> 1) & (CACHE_SLOTS - 1)];

    if (__builtin_expect(c->executed >= c->budget, 0)) {
        stop(c, uc);
        return;
    }
    if (__builtin_expect(e->addr != (uint32_t)addr || e->size != size, 0))
        fill(c, uc, e, addr, size);
    if (__builtin_expect(e->info & SITE, 0) && at_site(c, uc, addr))
        return;
    c->executed += e->info & 0x7fffu;
}

/* Forget cached counts (code rewritten, or the watched sites changed). */
void be_block_forget(struct counter *c)
{
    for (uint32_t i = 0; i < CACHE_SLOTS; i++) {
        c->cache[i].addr = 1;               /* odd: never a block address */
        c->cache[i].size = 0;
    }
}

/* Set the watched sites (sorted ascending); returns how many were taken. */
uint32_t be_block_sites(struct counter *c, const uint64_t *addrs, uint32_t n)
{
    if (n > MAX_SITES)
        n = MAX_SITES;
    for (uint32_t i = 0; i < n; i++)
        c->sites[i] = addrs[i];
    c->nsites = n;
    be_block_forget(c);
    return n;
}
