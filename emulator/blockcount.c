/* Block-granular instruction counter for the Cortex-M core (boardemu).
 *
 * unicorn's own counted mode (emu_start(count=n)) calls a hook helper on every instruction
 * (~7x slower than free-running translated code). This hook runs once per translated block,
 * before the block executes: it adds the block's instruction count to `executed` and stops
 * emulation (cleanly, before the block) once `executed` has reached `budget`.
 *
 * The instruction count of a block comes from its Thumb code: a halfword whose top five bits
 * are 0b11101, 0b11110 or 0b11111 starts a 32-bit instruction, anything else is 16-bit. Counts
 * are cached per (address, size) in a direct-mapped table.
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

#define CACHE_SLOTS 8192u
#define MAX_SITES 1024u
#define FILTER_BITS 8192u

struct entry {
    uint64_t addr;
    uint32_t size;
    uint32_t count;
};

struct counter {
    mem_read_fn mem_read;
    emu_stop_fn emu_stop;
    uint64_t executed;      /* instructions of the blocks entered in this burst */
    uint64_t budget;        /* stop before the first block that starts at or past this */
    uint32_t budget_stop;   /* set when this hook ended the burst */
    uint32_t misses;
    notify_fn notify;
    uint32_t nsites;
    uint32_t pad;
    uint64_t sites[MAX_SITES];          /* sorted */
    uint8_t filter[FILTER_BITS / 8];    /* bit (addr >> 1) % FILTER_BITS set for every site */
    struct entry cache[CACHE_SLOTS];
};

static int is_site(const struct counter *c, uint64_t addr)
{
    uint32_t bit = (uint32_t)(addr >> 1) & (FILTER_BITS - 1), lo = 0, hi = c->nsites;

    if (!(c->filter[bit >> 3] & (1u << (bit & 7))))
        return 0;
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

/* Set the watched sites (sorted ascending); returns how many were taken. */
uint32_t be_block_sites(struct counter *c, const uint64_t *addrs, uint32_t n)
{
    if (n > MAX_SITES)
        n = MAX_SITES;
    for (uint32_t i = 0; i < FILTER_BITS / 8; i++)
        c->filter[i] = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t bit = (uint32_t)(addrs[i] >> 1) & (FILTER_BITS - 1);
        c->sites[i] = addrs[i];
        c->filter[bit >> 3] |= (uint8_t)(1u << (bit & 7));
    }
    c->nsites = n;
    return n;
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

void be_block_hook(void *uc, uint64_t addr, uint32_t size, void *user)
{
    struct counter *c = user;
    struct entry *e;

    if (c->executed < c->budget && c->nsites && c->notify && is_site(c, addr))
        c->notify(addr);
    if (c->executed >= c->budget) {
        c->budget_stop = 1;
        c->emu_stop(uc);
        return;
    }
    e = &c->cache[(addr >> 1) & (CACHE_SLOTS - 1)];
    if (e->addr != addr || e->size != size) {
        e->addr = addr;
        e->size = size;
        e->count = count_thumb(c, uc, addr, size);
        c->misses++;
    }
    c->executed += e->count;
}

/* Forget cached counts (code was rewritten: flash programmed, RAM code loaded). */
void be_block_forget(struct counter *c)
{
    for (uint32_t i = 0; i < CACHE_SLOTS; i++)
        c->cache[i].addr = ~(uint64_t)0;
}
