/*
 * Native basic-block hook for the simulator.
 *
 * Unicorn calls `sim_block_hook` once per executed translation block, straight from the
 * generated code: no Python is involved on the hot path. Per block it
 *   - adds the block's exact instruction count (Thumb-2 lengths decoded from the first
 *     halfword of each instruction, so the count never depends on a disassembler),
 *   - adds the block's estimated cycles (per-instruction costs precomputed in Python with
 *     capstone, plus a pipeline refill whenever control flow did not fall through),
 *   - for blocks that move SP, reads SP once and records the lowest stack address the block
 *     will touch; if that address lies below the stack limit (end of static data, or the
 *     current heap break) the run is stopped *before* the block overwrites anything,
 *   - stops the run when the instruction limit is reached,
 *   - on cores with an FPU, stops the run before a block with a floating-point instruction
 *     while CPACR leaves the FPU disabled (hardware raises UsageFault NOCP there; Unicorn
 *     would execute it).
 *   - for blocks holding LDRD/LDM/... accesses that ARMv7-M requires aligned, reads their base
 *     registers (sim/alignment.py proved that the block cannot change them before the access
 *     other than by multiples of 4) and stops the run before the block when one is unaligned.
 * A code hook (`sim_sp_hook`) on the instruction after each one that writes SP with a value
 * not known statically (`sub sp, sp, r3` for a VLA, `add sp, r4` for a large M0+ frame, `mov
 * sp, r0`) checks the new SP before anything can be stored below the limit.
 * Block facts are computed on first execution and cached per flash halfword, 16 bytes per
 * entry. The common case (a cached flash block that leaves SP alone) runs without calls and
 * without saving registers; everything else is handled out of line.
 *
 * The file is built as a CPython extension module only so that setuptools compiles it; the
 * simulator loads it with ctypes and hands Unicorn the address of `sim_block_hook`.
 */
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SPD_DYNAMIC INT16_MIN /* SP written with a value unknown before execution */

#define COST_PAIRS 0x80u /* cost byte: dual-issues with the instruction before it (codemap.py) */
#define COST_MASK 0x7fu

#define BF_VALID 1u
#define BF_MOVES_SP 2u
#define BF_DYNAMIC_SP 4u
#define BF_FP 8u /* the block holds a floating-point (VFP) instruction */
#define BF_ALIGN 16u /* the block holds accesses whose base registers are checked at its entry */
#define BF_FP64 64u /* the block holds a double-precision VFP operation (an .f64 mnemonic) on a
                     * single-precision FPU, or an instruction the core lacks (sim/isa_gaps.py) */
#define BF_SP_UNSURE 32u /* the block's net SP change is not known before it runs: an SP change
                          * inside an IT block (conditional), a net change too large for spnet,
                          * or code outside flash; the shadow SP is dropped after it */
#define BF_SELF_LOOP 128u /* the block is `b .` (a branch to itself): always the slow path */

enum stop_reason {
    STOP_NONE = 0,
    STOP_STACK_OVERFLOW = 1, /* a block would lower SP below the limit: it did not run */
    STOP_INSN_LIMIT = 2,
    STOP_SP_WRITE = 3,       /* an instruction moved SP below the limit: the next did not run */
    STOP_FPU_DISABLED = 4,
    STOP_UNALIGNED = 5,      /* an access the architecture requires aligned was not: it did not run */
    STOP_DIV_BY_ZERO = 6,    /* a divide by zero while CCR.DIV_0_TRP is set: it did not run */
    STOP_THREAD_STACK = 7,   /* a thread's stack (PSP) would go below its region */
    STOP_ALIGN_ENTRY = 8,    /* a base register checked at block entry is unaligned: the block did
                              * not run; Python moves those checks to their instructions and
                              * runs the block again */
    STOP_UNALIGN_TRP = 9,    /* an unaligned LDR/STR(H) while CCR.UNALIGN_TRP is set: it did not run */
    STOP_FP64 = 10,          /* a block with a double-precision operation on a single-precision
                              * FPU (Unicorn's model of the core has double precision), or an
                              * instruction the core lacks (sim/isa_gaps.py): it did not run */
    STOP_SELF_LOOP = 11,     /* `b .` with nothing that can ever interrupt it: no exception that
                              * could preempt pending, no timer event to come (a deadlock) */
    STOP_SRAM_MSR = 12       /* a block in SRAM holds an MSR to MSP, PSP, CONTROL, MSPLIM or PSPLIM
                              * with no code hook yet (stop_addr: its address): the block did
                              * not run; Python hooks it and runs the block again */
};

/* Facts about the block that starts at one flash halfword: 16 bytes, so a block's facts are one
 * load from one cache line (sim/native.py declares the same record as a numpy dtype). */
typedef struct {
    uint32_t cost;   /* summed base cycles */
    int32_t spmin;   /* lowest cumulative SP change inside the block (<= 0) */
    uint16_t count;  /* instructions */
    uint16_t size;   /* bytes: Unicorn may end a block early, so a cached entry must match */
    uint8_t flags;   /* BF_* */
    int8_t spnet;    /* net SP change in words when the block runs to its end (BF_SP_UNSURE:
                      * not known) */
    uint16_t amask;  /* registers (bit n: Rn, 14: LR) whose word alignment at block entry makes
                      * every access checked there aligned */
} block_info;

typedef int (*reg_read_fn)(void *uc, int regid, void *value);
typedef int (*emu_stop_fn)(void *uc);
/* The exception model (sim/exceptions.py): called at a block boundary when a timer is due or a
 * pending exception can preempt; returns 1 when it redirected execution (an exception entry:
 * the block at addr did not run and is not counted). */
typedef int (*event_fn)(uint32_t addr);
typedef int (*reg_write_fn)(void *uc, int regid, const void *value);
typedef int (*reg_read_batch_fn)(void *uc, const int *regids, void *const *values, int count);
typedef int (*reg_write_batch_fn)(void *uc, const int *regids, const void *const *values,
                                  int count);
/* The rest of the interrupt handling (sim/runner.py): every intno the native interrupt hook does
 * not finish itself. */
typedef void (*intr_fn)(uint32_t intno);
/* The System Control Space device in Python (sim/devices/scs.py). */
typedef uint64_t (*mmio_read_fn)(uint64_t offset, uint32_t size);
typedef void (*mmio_write_fn)(uint64_t offset, uint32_t size, uint64_t value);
typedef int (*ctx_fn)(void *uc, void *context); /* uc_context_save, uc_context_restore */

/* exc_flags */
#define EXC_FAST 1u /* native entry and return allowed (no profiler trace recording them) */
#define EXC_FPU 2u  /* the core has an FPU: CONTROL.FPCA selects extended frames */
#define EXC_V8M 4u
#define EXC_V6M 8u
#define EXC_DSP 16u /* the core has the DSP extension: APSR.GE[3:0] */

/* exc_regids: the Unicorn register ids the exception fast path uses, in this order */
enum { RG_R0, RG_R1, RG_R2, RG_R3, RG_R12, RG_LR, RG_PC, RG_XPSR, RG_NZCV, RG_CONTROL, RG_SP,
       RG_MSP, RG_PSP, RG_IPSR, RG_S0, RG_FPSCR = RG_S0 + 16, RG_NZCVQG, RG_COUNT };
#define EXC_WORDS 4 /* 256 exception numbers */
#define NO_PENDING 0x7fffffff
#define HANDLER_STACK 264 /* open handlers: nesting needs a higher priority each time */

/* Shared with Python: sim/native.py declares the identical ctypes.Structure and checks it against
 * sim_layout() when it loads this library. */
typedef struct {
    /* configuration, written by Python before the run */
    const uint8_t *flash;      /* host copy of flash, mapped into Unicorn with mem_map_ptr */
    const uint8_t *sram;       /* host copy of SRAM */
    const uint8_t *cost;       /* per flash halfword: base cycles of the instruction starting there (0: unknown; top bit: pairs, codemap.py) */
    const int16_t *spd;        /* per flash halfword: SP change of that instruction, SPD_DYNAMIC if unknown */
    block_info *bcache;        /* block cache, one entry per flash halfword of the block start */
    reg_read_fn reg_read;
    emu_stop_fn emu_stop;
    uint32_t flash_base, flash_size;
    uint32_t sram_base, sram_size;
    uint32_t refill;           /* cycles added per non-sequential transfer (pipeline refill + wait states) */
    uint32_t static_end;       /* first address past .data/.bss */
    uint32_t brk_addr;         /* address of the firmware's heap-break variable, 0 if none */
    uint32_t msp_floor;        /* start of the static object MSP was moved into (MSR MSP), or 0 */
    int32_t sp_regid;
    uint64_t max_insns;        /* instruction limit; UINT64_MAX: none */
    /* results */
    uint64_t insns;
    uint64_t cycles;
    uint32_t min_sp;           /* lowest stack address touched so far */
    uint32_t next_seq;         /* address that follows the last block: where fall-through would go */
    uint32_t last_addr;        /* the last block: [last_addr, next_seq) */
    uint32_t stop_reason;
    uint32_t stop_pc;          /* block that triggered the stop */
    uint32_t stop_addr;        /* stack overflow: the lowest address the block would have written */
    uint32_t stop_limit;       /* stack overflow: the limit it crossed */
    uint32_t sp_pending;       /* BF_DYNAMIC_SP when the previous block wrote SP dynamically
                                * (sample SP at the next block), else 0 */
    /* The shadow SP: while sp_known, sp_shadow is SP's value at the start of the next block,
     * so the stack check of a block that moves SP by known amounts needs no register read.
     * Blocks with a known net change move it; anything else that can change SP (a dynamic or
     * conditional SP write, a register write from C or Python, a call into Python, a new
     * emu_start) clears sp_known, and the next block that moves SP reads SP again. */
    uint32_t sp_shadow;
    uint32_t sp_known;
    uint32_t last_count;       /* instructions and cycles the last block added */
    uint32_t last_cycles;
    /* marks: a code hook on chosen addresses records (address, instructions, cycles) each
     * time execution reaches one, counting what retired before that instruction */
    uint64_t *marks;           /* marks_cap records of 3 values */
    uint32_t marks_cap;
    uint32_t marks_len;        /* records made; more than marks_cap means some were dropped */
    const uint8_t *fp;         /* per flash halfword: bit 0 where a floating-point instruction
                                * starts, bit 1 where one the core lacks does (sim/codemap.py) */
    uint32_t slow_flags;       /* block flags that take the slow path: the SP flags, plus BF_FP
                                * while the FPU is disabled */
    /* exceptions: the one compare per block is cycles >= event_at */
    uint64_t event_at;         /* cycles at which to look at events: 0 every block (something is
                                * pending), timer_at otherwise, UINT64_MAX never */
    uint64_t timer_at;         /* cycles at which the next timer event (SysTick, device_at)
                                * falls due */
    uint64_t device_at;        /* cycles of the next device event (a UART byte arriving) */
    event_fn on_event;         /* the exception model, in Python; NULL: none */
    int32_t pend_prio;         /* group priority of the best pending, enabled exception */
    int32_t active_prio;       /* execution priority the active exceptions give (256: none) */
    uint32_t group_mask;       /* AIRCR.PRIGROUP as a mask of the group-priority bits */
    uint32_t prio_mask;        /* the priority bits the part implements (BASEPRI's too) */
    int32_t primask_regid, faultmask_regid, basepri_regid; /* -1: the core has no such mask */
    /* thread stacks: while thread mode runs on PSP, SP is tracked apart from the main stack */
    uint32_t psp_mode;         /* 1: SP is a thread's (PSP) stack */
    uint32_t psp_limit;        /* lowest address of that thread's stack region (0: unknown) */
    uint32_t psp_min;          /* lowest thread stack address touched since it was switched in */
    int32_t control_regid, ipsr_regid;
    /* the exception model's state: authoritative here, read and written by sim/exceptions.py
     * through the mirror, so that entry and return in C and in Python see the same state */
    uint64_t exc_pending[EXC_WORDS];  /* bit per exception number */
    uint64_t exc_active[EXC_WORDS];
    uint64_t exc_enabled[EXC_WORDS];  /* IRQs only: system exceptions are always enabled */
    uint64_t exc_level[EXC_WORDS];    /* IRQ lines a device holds high (level-sensitive) */
    int32_t exc_prio[64 * EXC_WORDS]; /* priority per exception (-3, -2, -1 fixed) */
    int32_t pend_exc;                 /* the best pending enabled exception, -1: none */
    uint32_t vtor, ccr;
    uint32_t entry_cycles, tail_cycles;
    uint32_t exc_flags;               /* EXC_* */
    uint32_t event_register;          /* WFE's event register (an exception return sets it) */
    /* statistics (the report's): entries per exception, cycles spent in each handler (its
     * nested handlers' excluded), tail-chains; and the handlers entered, not yet returned */
    uint32_t exc_taken[64 * EXC_WORDS];
    uint64_t exc_handler_cycles[64 * EXC_WORDS];
    uint64_t tail_chained;
    uint32_t hs_len;
    uint32_t hs_exc[HANDLER_STACK];
    uint64_t hs_start[HANDLER_STACK]; /* cycles at its entry */
    reg_write_fn reg_write;
    reg_read_batch_fn reg_read_batch;
    reg_write_batch_fn reg_write_batch;
    intr_fn on_intr;                  /* Python, for every other interrupt; NULL: none */
    int32_t exc_regids[RG_COUNT];
    uint32_t scr;                     /* SCB->SCR (SLEEPONEXIT, SEVONPEND) */
    uint32_t msplim, psplim;          /* ARMv8-M stack limits, as the firmware's MSRs set them */
    uint32_t vec_base, vec_entries;   /* the image's vector table and its length (0: unknown) */
    uint32_t min_sp_prev, min_sp_at;  /* min_sp before the block at min_sp_at last lowered it */
    uint32_t unpriv;                  /* 1 once the firmware has set CONTROL.nPRIV (MSR hook) */
    mmio_read_fn scs_read;            /* the SCS device, for everything but the fast stores */
    mmio_write_fn scs_write;
    /* thread stacks: the image's sized data objects sorted by start (sim/elf.py), and per
     * object (index n_objs: stacks in no object) the peak and the order it was first seen */
    const uint32_t *obj_start, *obj_size;
    uint32_t *obj_peak, *obj_order;
    uint32_t n_objs, seen_seq;
    uint32_t switched_in_at;          /* PSP when the running thread was last switched in */
    /* SysTick (sim/exceptions.py's SysTick reads and writes these): CSR's ENABLE, TICKINT and
     * CLKSOURCE bits, RVR, the cycle at which the counter next reaches 0 (UINT64_MAX: never),
     * COUNTFLAG, and CVR while disabled */
    uint64_t st_zero_at;
    uint32_t st_csr, st_rvr, st_countflag, st_stopped;
    uint32_t st_div;                  /* core cycles per count: 1, or the reference clock's */
    /* alignment checks at block entry (sim/alignment.py): per flash halfword, 0x80 | n where an
     * access starts whose base register Rn must be word-aligned (NULL: none), and the transfer
     * record of each instruction that can share a block with such an access (0: none, which
     * makes every register unknown); the Unicorn ids of R0-R12, SP, LR, PC */
    const uint8_t *align;
    const uint32_t *xfer;
    int32_t gpr_regids[16];
    /* self-check (EBNN_SIM_CHECK_SP=1, sim/native.py): every use of the shadow SP also reads
     * SP and counts disagreements, the first one's block in sp_mismatch_pc */
    uint32_t sp_check;
    uint32_t sp_mismatches;
    uint32_t sp_mismatch_pc;
    /* pauses of the marks (sim/native.py add_marks): per marked address (mark_addrs, n_marks)
     * its kind, MARK_RECORD, MARK_PAUSE or MARK_RESUME. A pause mark opens a pause (unless one
     * is open), a resume mark closes it, a record mark closes it and records what retired
     * outside every pause so far: a harness's own work between a library's calls left out */
    const uint32_t *mark_addrs;
    const uint8_t *mark_kinds;
    uint32_t n_marks;
    uint32_t paused;                    /* 1 while a pause is open */
    uint64_t pause_insns, pause_cycles; /* the counters when it opened */
    uint64_t paused_insns, paused_cycles; /* retired in closed pauses */
    /* code in SRAM (copied there, as a ramfunc): a bit per SRAM halfword set where Python has
     * put a code hook on an MSR to a stack register (sim/runner.py), as it does for each in
     * flash when it loads the image; NULL: none looked for */
    const uint8_t *sram_msr;
    /* the local exclusive monitor, cleared at every exception entry and return (sim/exclusive.py:
     * Unicorn's CPU context saved into excl_ctx, its exclusive_addr at byte excl_off set to -1,
     * restored); excl_ctx NULL: not cleared (an image without load-exclusives, ARMv6-M) */
    ctx_fn ctx_save, ctx_restore;
    uint8_t *excl_ctx;
    uint32_t excl_off;
} sim_state;

/* ClearExclusiveLocal: an interrupted LDREX/STREX sequence's STREX then fails. */
static void clear_exclusive(void *uc, sim_state *s)
{
    if (s->excl_ctx == NULL)
        return;
    static const int64_t open_monitor = -1;
    s->ctx_save(uc, s->excl_ctx);
    memcpy(s->excl_ctx + s->excl_off, &open_monitor, sizeof open_monitor);
    s->ctx_restore(uc, s->excl_ctx);
}

/* For the exception model's entries and returns in Python. */
void sim_clear_exclusive(void *uc, sim_state *s)
{
    clear_exclusive(uc, s);
}

enum { MARK_RECORD = 0, MARK_PAUSE = 1, MARK_RESUME = 2 };

static inline uint32_t insn_len(uint16_t hw)
{
    /* Thumb-2: a halfword whose top five bits are 0b11101, 0b11110 or 0b11111 opens a 32-bit
     * instruction (Arm ARM, "Thumb instruction set encoding"). */
    return ((hw >> 11) >= 0x1d) ? 4u : 2u;
}

static inline uint16_t read_hw(const uint8_t *base, uint32_t off)
{
    return (uint16_t)(base[off] | (base[off + 1] << 8));
}

/* The cycles one instruction adds inside a block, from its cost byte k (0: unknown, 1 cycle).
 * On a dual-issue core (sim/codemap.py) COST_PAIRS marks an instruction that issues in the
 * same cycle as the one before it: it adds one cycle less, unless it opens the block (n == 0:
 * whatever ran before is not known here) or that one already paired with its own predecessor
 * (*paired: instructions issue in order, two at a time). */
static inline uint32_t pair_cost(uint32_t k, uint32_t n, uint32_t *paired)
{
    uint32_t cost = k & COST_MASK;
    if ((k & COST_PAIRS) && n > 0 && !*paired) {
        *paired = 1;
        return cost - 1u;
    }
    *paired = 0;
    return cost ? cost : 1u;
}

/* Transfer records (sim/alignment.py): bits 0-15 registers made unknown, 16-18 kind, 20-23 Rd,
 * 24-27 Rn, 28-31 Rm. */
#define XF_NONE 1u
#define XF_COPY 2u
#define XF_SUM 3u
#define XF_ALIGNED 4u
#define XF_UNKNOWN 0x8000u

static inline void follow_one(uint16_t *dep, uint32_t x)
{
    uint32_t kind = x >> 16 & 7u, rd = x >> 20 & 15u, rn = x >> 24 & 15u, rm = x >> 28 & 15u;
    if (kind == 0) {
        for (uint32_t r = 0; r < 16; r++)
            dep[r] = r == 13 ? 0 : XF_UNKNOWN;
        return;
    }
    if (kind == XF_COPY)
        dep[rd] = dep[rn];
    else if (kind == XF_SUM)
        dep[rd] = (uint16_t)(dep[rn] | dep[rm]);
    else if (kind == XF_ALIGNED)
        dep[rd] = 0;
    for (uint32_t m = x & 0xffffu; m; m &= m - 1)
        dep[__builtin_ctz(m)] = XF_UNKNOWN;
}

/* Walk one block: instruction count, summed cost, lowest cumulative SP change, flags. */
/* An MSR to MSP, PSP, CONTROL, MSPLIM or PSPLIM (SYSm 8, 9, 20, 10, 11; mask 0b10) at `off` in
 * SRAM, given its first halfword, whose halfword has no code hook yet (sram_msr). */
static int unhooked_msr(const sim_state *s, uint16_t hw, uint32_t off)
{
    if ((hw & 0xFFF0u) != 0xF380u || off + 4 > s->sram_size)
        return 0;
    uint16_t sysm = read_hw(s->sram, off + 2);
    return (sysm == 0x8808u || sysm == 0x8809u || sysm == 0x8814u || sysm == 0x880Au ||
            sysm == 0x880Bu) &&
           !(s->sram_msr[off >> 4] >> ((off >> 1) & 7) & 1);
}

/* `msr`: for a block in SRAM (NULL otherwise), set to the offset of its first unhooked_msr,
 * UINT32_MAX when none: SRAM blocks are decoded on every run, so this costs one compare per
 * instruction of theirs and nothing in flash. */
static void analyse(const sim_state *s, const uint8_t *mem, uint32_t off, uint32_t limit,
                    uint32_t size, int in_flash, uint16_t *count, uint32_t *cost, int32_t *spmin,
                    uint8_t *flags, int8_t *spnet, uint16_t *amask, uint32_t *msr)
{
    uint32_t end = off + size, n = 0, c = 0, paired = 0, am = 0;
    int32_t sp = 0, lo = 0;
    uint8_t f = BF_VALID;
    uint32_t first_msr = UINT32_MAX; /* (msr) kept in a register: SRAM blocks decode each run */
    if (in_flash && off + 1 < limit && read_hw(mem, off) == 0xe7feu)
        f |= BF_SELF_LOOP; /* b . */
    /* Instructions still inside an IT block (conditional: their SP change may not happen).
     * A block may start inside one (an exception returning there, Unicorn splitting a block):
     * an IT encoding in the 16 bytes before the block (4 instructions of at most 4 bytes) makes
     * its first 4 instructions count as conditional. The halfword may belong to a 32-bit
     * instruction instead; that only costs a register read. */
    uint32_t in_it = 0;
    for (uint32_t back = 2; back <= 16 && back <= off; back += 2) {
        uint16_t h = read_hw(mem, off - back);
        if ((h & 0xff00u) == 0xbf00u && (h & 0xfu))
            in_it = 4;
    }
    /* dep[r]: the registers whose word alignment at block entry makes Rr word-aligned now
     * (XF_UNKNOWN: none do); sim/alignment.py's follow() is the same computation */
    uint16_t dep[16];
    for (uint32_t r = 0; r < 16; r++)
        dep[r] = (uint16_t)(1u << r);
    dep[13] = 0;          /* SP is always word-aligned on M-profile */
    dep[15] = XF_UNKNOWN; /* PC: never a checked base */
    while (off < end && off + 1 < limit) {
        uint32_t idx = off >> 1;
        uint32_t k = in_flash ? s->cost[idx] : 0;
        c += pair_cost(k, n, &paired);
        /* No facts where an instruction starts: the sweep over flash (sim/codemap.py) took
         * this halfword for data or for the middle of another instruction (an image without
         * mapping symbols). Its SP change is unknown: SP is sampled at the next block. */
        if (in_flash && k == 0)
            f |= BF_DYNAMIC_SP;
        if (in_flash && s->fp && (s->fp[idx] & 1u))
            f |= BF_FP;
        if (in_flash && s->fp && (s->fp[idx] & 2u))
            f |= BF_FP64;
        if (in_flash && s->align) {
            if (s->align[idx])
                am |= dep[s->align[idx] & 15u];
            follow_one(dep, s->xfer[idx]);
        }
        uint16_t hw = read_hw(mem, off);
        if (in_flash) {
            int16_t d = s->spd[idx];
            if (d == SPD_DYNAMIC) {
                f |= BF_DYNAMIC_SP;
            } else if (d) {
                sp += d;
                if (sp < lo) lo = sp;
                f |= BF_MOVES_SP;
                if (in_it)
                    f |= BF_SP_UNSURE;
            }
        } else {
            f |= BF_DYNAMIC_SP; /* code outside flash has no precomputed facts: sample SP */
            if ((hw & 0xFFF0u) == 0xF380u && msr != NULL && first_msr == UINT32_MAX &&
                unhooked_msr(s, hw, off))
                first_msr = off;
        }
        if (in_it)
            in_it--;
        if ((hw & 0xff00u) == 0xbf00u && (hw & 0xfu)) /* IT: 4 - ctz(mask) instructions */
            in_it = 4u - (uint32_t)__builtin_ctz(hw & 0xfu);
        off += insn_len(hw);
        n++;
    }
    if ((sp & 3) || sp / 4 < INT8_MIN || sp / 4 > INT8_MAX)
        f |= BF_SP_UNSURE;
    *count = (uint16_t)n;
    *cost = c;
    *spmin = lo;
    *spnet = (f & BF_SP_UNSURE) ? 0 : (int8_t)(sp / 4);
    *flags = am ? (uint8_t)(f | BF_ALIGN) : f;
    *amask = (uint16_t)am;
    if (msr != NULL)
        *msr = first_msr;
}

/* The lowest address the main stack may reach: the end of static data, or the heap's break
 * when a heap has grown past it; on a static object MSP was moved into, that object's start. */
static inline uint32_t stack_limit(const sim_state *s)
{
    if (s->msp_floor)
        return s->msp_floor;
    uint32_t limit = s->static_end;
    if (s->brk_addr) {
        uint32_t brk;
        memcpy(&brk, s->sram + (s->brk_addr - s->sram_base), 4);
        if (brk > limit)
            limit = brk;
    }
    return limit;
}

static int32_t object_at(const sim_state *s, uint32_t a);

/* SP below the main stack's limit may be a thread's stack: thread mode on PSP, which firmware
 * enters with MSR CONTROL (an RTOS starting its first task) or an exception return (then the
 * exception model has set psp_mode already). Returns 0 when SP is the main stack's (the caller
 * checks it), 1 when it was tracked as a thread's, 2 when the run was stopped: the thread's
 * stack would go below its region. */
static __attribute__((noinline)) int thread_stack(void *uc, sim_state *s, uint32_t addr,
                                                  uint32_t sp, uint32_t lowest)
{
    if (!s->psp_mode) { /* (the MSR CONTROL/PSP hooks in flash usually got here first) */
        uint32_t control = 0, ipsr = 0;
        s->reg_read(uc, s->control_regid, &control);
        s->reg_read(uc, s->ipsr_regid, &ipsr);
        if (!(control & 2) || (ipsr & 0x1ff))
            return 0;
        int32_t i = object_at(s, sp - 1u); /* bounded by the object SP lies in */
        s->psp_mode = 1;
        s->psp_limit = i >= 0 ? s->obj_start[i] : 0u;
        s->psp_min = lowest;
    }
    if (lowest < s->psp_limit && s->stop_reason == STOP_NONE) {
        s->stop_reason = STOP_THREAD_STACK;
        s->stop_pc = addr;
        s->stop_addr = lowest;
        s->stop_limit = s->psp_limit;
        s->emu_stop(uc);
        return 2;
    }
    if (lowest < s->psp_min)
        s->psp_min = lowest;
    return 1;
}

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* The end of every block's accounting: the instruction limit, then (for blocks that move SP or
 * follow one that wrote SP dynamically) the stack check, then the counts. */
/* A block with accesses checked at its entry: 0 when every base register in amask is
 * word-aligned. Otherwise the run stops before the block (STOP_ALIGN_ENTRY: stop_addr holds the
 * unaligned registers, stop_limit the block's end) and the block is left as if it had not been
 * reached, so that it runs again with the same refill once Python has put code hooks on those
 * accesses: one may not run at all (a condition, an earlier fault), and the others before it
 * in the block must retire first. */
static __attribute__((noinline)) int align_entry(void *uc, sim_state *s, uint32_t addr,
                                                 uint32_t amask, uint32_t extra)
{
    uint32_t bad = amask & XF_UNKNOWN; /* not expected: sim/alignment.py proved otherwise */
    for (uint32_t m = amask & ~XF_UNKNOWN; m; m &= m - 1) {
        uint32_t r = (uint32_t)__builtin_ctz(m), v = 0;
        s->reg_read(uc, s->gpr_regids[r], &v);
        if (v & 3u)
            bad |= 1u << r;
    }
    if (!bad)
        return 0;
    uint32_t end = s->next_seq;
    s->stop_reason = STOP_ALIGN_ENTRY;
    s->stop_pc = addr;
    s->stop_addr = bad;
    s->stop_limit = end;
    s->next_seq = extra ? addr | 1u : addr; /* odd: never a block start, so the refill again */
    s->emu_stop(uc);
    return 1;
}

/* Self-check of the shadow SP (sp_check): the real SP, compared. */
static __attribute__((noinline)) void check_shadow(void *uc, sim_state *s, uint32_t addr)
{
    uint32_t sp = 0;
    s->reg_read(uc, s->sp_regid, &sp);
    if (sp != s->sp_shadow && s->sp_mismatches++ == 0)
        s->sp_mismatch_pc = addr;
}

static inline void account(void *uc, sim_state *s, uint32_t addr, uint32_t count, uint32_t cost,
                           int32_t spmin, uint8_t flags, int8_t spnet, uint16_t amask,
                           uint32_t extra)
{
    /* A stop requested from a block hook takes effect before the block runs (Unicorn checks
     * the exit request after the hook, at the start of the block), so a stopped block is
     * never counted. */
    if (s->insns + count > s->max_insns && s->stop_reason == STOP_NONE) {
        s->stop_reason = STOP_INSN_LIMIT;
        s->stop_pc = addr;
        s->emu_stop(uc);
        return;
    }
    if ((flags & BF_SELF_LOOP) && s->event_at == UINT64_MAX && s->stop_reason == STOP_NONE) {
        s->stop_reason = STOP_SELF_LOOP; /* spinning for ever: Python ends the run */
        s->stop_pc = addr;
        s->emu_stop(uc);
        return;
    }
    if ((flags & BF_FP) && (s->slow_flags & BF_FP) && s->stop_reason == STOP_NONE) {
        s->stop_reason = STOP_FPU_DISABLED;
        s->stop_pc = addr;
        s->emu_stop(uc);
        return;
    }
    if ((flags & BF_FP64) && (s->slow_flags & BF_FP64) && s->stop_reason == STOP_NONE) {
        /* Python runs the block again, up to the operation: nothing of it is counted yet,
         * and its refill is due again (as align_entry) */
        s->stop_reason = STOP_FP64;
        s->stop_pc = addr;
        s->next_seq = extra ? addr | 1u : addr;
        s->last_count = s->last_cycles = 0;
        s->emu_stop(uc);
        return;
    }
    if ((flags & BF_ALIGN) && s->stop_reason == STOP_NONE && align_entry(uc, s, addr, amask, extra))
        return;

    if ((flags & (BF_MOVES_SP | BF_DYNAMIC_SP | BF_SP_UNSURE)) || s->sp_pending) {
        uint32_t sp = 0;
        if (s->sp_known) {
            sp = s->sp_shadow;
            if (UNLIKELY(s->sp_check))
                check_shadow(uc, s, addr);
        } else {
            s->reg_read(uc, s->sp_regid, &sp);
        }
        uint32_t lowest = sp + (uint32_t)spmin;
        uint32_t limit = stack_limit(s);
        int thread = (s->psp_mode || lowest < limit) ? thread_stack(uc, s, addr, sp, lowest) : 0;
        if (thread == 2)
            return;
        if (thread)
            limit = 0; /* tracked as the thread's: the main stack's checks do not apply */
        if (lowest < limit && s->stop_reason == STOP_NONE) {
            s->stop_reason = STOP_STACK_OVERFLOW;
            s->stop_pc = addr;
            s->stop_addr = lowest;
            s->stop_limit = limit;
            s->emu_stop(uc);
            return;
        }
        if (lowest < s->min_sp && !thread) {
            s->min_sp_prev = s->min_sp; /* a fault inside the block takes it back */
            s->min_sp_at = addr;
            s->min_sp = lowest;
        }
        s->sp_pending = flags & BF_DYNAMIC_SP;
        s->sp_known = !(flags & (BF_DYNAMIC_SP | BF_SP_UNSURE));
        s->sp_shadow = sp + (uint32_t)((int32_t)spnet * 4);
    }

    s->insns += count;
    s->cycles += cost + extra;
    s->last_count = count;
    s->last_cycles = cost + extra;
}

/* The slow paths take the block from last_addr and next_seq, already stored, so the caller
 * keeps fewer values live. */

/* A cached flash block that needs the stack check (or reaches the instruction limit). */
static __attribute__((noinline, noipa)) void cached_block(void *uc, sim_state *s,
                                                         const block_info *b, uint32_t extra)
{
    account(uc, s, s->last_addr, b->count, b->cost, b->spmin, b->flags, b->spnet, b->amask,
            extra);
}

/* Facts of the instructions in [addr, addr + size), wherever they lie: flash is decoded with its
 * cost and SP tables, SRAM without (1 cycle each, SP sampled), anything else is counted as
 * 16-bit instructions of 1 cycle. */
static void range_facts(const sim_state *s, uint32_t addr, uint32_t size, block_info *t,
                        uint32_t *msr)
{
    if (msr != NULL)
        *msr = UINT32_MAX;
    uint32_t foff = addr - s->flash_base, soff = addr - s->sram_base; /* wrap below base */
    if (foff < s->flash_size) {
        analyse(s, s->flash, foff, s->flash_size, size, 1, &t->count, &t->cost, &t->spmin,
                &t->flags, &t->spnet, &t->amask, NULL);
    } else if (soff < s->sram_size) {
        analyse(s, s->sram, soff, s->sram_size, size, 0, &t->count, &t->cost, &t->spmin,
                &t->flags, &t->spnet, &t->amask, s->sram_msr != NULL ? msr : NULL);
    } else {
        t->count = (uint16_t)(size / 2);
        t->cost = t->count;
        t->spmin = 0;
        t->flags = BF_VALID | BF_SP_UNSURE; /* nothing known about the code: drop the shadow */
        t->spnet = 0;
        t->amask = 0;
    }
}

/* Everything else: a block seen for the first time (or split differently by Unicorn), code
 * outside flash, the instruction limit. */
static __attribute__((noinline, noipa)) void slow_block(void *uc, sim_state *s, uint32_t extra)
{
    uint32_t addr = s->last_addr, size = s->next_seq - addr;
    uint32_t foff = addr - s->flash_base;
    if (foff < s->flash_size) {
        block_info *b = &s->bcache[foff >> 1];
        if (!(b->flags & BF_VALID) || b->size != size) {
            range_facts(s, addr, size, b, NULL);
            b->size = (uint16_t)size;
        }
        account(uc, s, addr, b->count, b->cost, b->spmin, b->flags, b->spnet, b->amask, extra);
    } else {
        block_info t;
        uint32_t at;
        range_facts(s, addr, size, &t, &at);
        if (at != UINT32_MAX && s->stop_reason == STOP_NONE) {
            /* an MSR to a stack register with no hook yet (in SRAM: code copied there); as
             * align_entry, the block is left as if not reached, to run again once hooked */
            s->stop_reason = STOP_SRAM_MSR;
            s->stop_pc = addr;
            s->stop_addr = s->sram_base + at;
            s->stop_limit = s->next_seq;
            s->next_seq = extra ? addr | 1u : addr;
            s->emu_stop(uc);
            return;
        }
        account(uc, s, addr, t.count, t.cost, t.spmin, t.flags, t.spnet, t.amask, extra);
    }
}

/* --- exceptions: entry and return, natively ------------------------------------------------
 * The architecture's ExceptionEntry / ExceptionReturn, tail-chaining, SVC and SysTick falling
 * due, with integer or FP extended frames, on the main stack or a thread's (sim/exceptions.py
 * is the reference and handles what this does not: frames or vectors outside SRAM/flash,
 * invalid returns, faults delivered to the firmware, the profiler's trace). Each fast path
 * decides first, and either does the whole thing or changes nothing and returns 0. */

static inline int exc_bit(const uint64_t *m, uint32_t e) { return (int)(m[e >> 6] >> (e & 63) & 1); }
static inline void exc_set(uint64_t *m, uint32_t e) { m[e >> 6] |= 1ull << (e & 63); }
static inline void exc_clr(uint64_t *m, uint32_t e) { m[e >> 6] &= ~(1ull << (e & 63)); }

static inline int32_t exc_group(const sim_state *s, uint32_t e)
{
    int32_t p = s->exc_prio[e];
    return p < 0 ? p : (int32_t)((uint32_t)p & s->group_mask);
}

/* The priority the active exceptions give (256: none active). */
static int32_t active_priority(const sim_state *s, const uint64_t *active)
{
    int32_t prio = 256;
    for (uint32_t w = 0; w < EXC_WORDS; w++) {
        for (uint64_t bits = active[w]; bits; bits &= bits - 1) {
            int32_t g = exc_group(s, w * 64 + (uint32_t)__builtin_ctzll(bits));
            if (g < prio)
                prio = g;
        }
    }
    return prio;
}

/* The pending, enabled exception taken first: lowest group priority, then lowest priority,
 * then lowest number; -1 when none. */
static int32_t best_pending(const sim_state *s)
{
    int32_t best = -1, bg = 0, bp = 0;
    for (uint32_t w = 0; w < EXC_WORDS; w++) {
        uint64_t bits = s->exc_pending[w] & (s->exc_enabled[w] | (w == 0 ? 0xffffull : 0));
        for (; bits; bits &= bits - 1) {
            uint32_t e = w * 64 + (uint32_t)__builtin_ctzll(bits);
            int32_t g = exc_group(s, e), p = s->exc_prio[e];
            if (best < 0 || g < bg || (g == bg && p < bp)) {
                best = (int32_t)e;
                bg = g;
                bp = p;
            }
        }
    }
    return best;
}

/* After any change of the exception state: what the block hook watches. */
void sim_exc_update(sim_state *s)
{
    s->pend_exc = best_pending(s);
    s->pend_prio = s->pend_exc < 0 ? NO_PENDING : exc_group(s, (uint32_t)s->pend_exc);
    s->active_prio = active_priority(s, s->exc_active);
    s->event_at = s->pend_exc >= 0 ? 0 : s->timer_at;
}

/* --- SysTick, counting the core's cycles (sim/exceptions.py's SysTick holds the rest: reads
 * and writes of its registers) --- */
#define NMI_EXC 2u
#define SYSTICK_EXC 15u
#define SVCALL_EXC 11u

/* The cycle of the next timer event: the next SysTick interrupt (when the counter reaches 0
 * with ENABLE and TICKINT set) or the next device event, whichever comes first. */
static inline uint64_t systick_timer_at(const sim_state *s)
{
    uint64_t tick = ((s->st_csr & 3u) == 3u) ? s->st_zero_at : UINT64_MAX;
    return tick < s->device_at ? tick : s->device_at;
}

/* Account SysTick's wraps up to now: COUNTFLAG, and SysTick pending with TICKINT (each count
 * from 1 to 0, also the last one before a reload value of 0 stops the counter at 0; under
 * SCR.SEVONPEND its becoming pending is a wake-up event for WFE). */
void sim_advance_systick(sim_state *s)
{
    uint64_t now = s->cycles;
    if (!(s->st_csr & 1u) || s->st_zero_at > now)
        return;
    s->st_countflag = 1;
    if (s->st_rvr == 0) {
        s->st_zero_at = UINT64_MAX;
    } else {
        uint64_t period = ((uint64_t)s->st_rvr + 1u) * (s->st_div ? s->st_div : 1u);
        s->st_zero_at += ((now - s->st_zero_at) / period + 1u) * period;
    }
    if (s->st_csr & 2u) {
        if ((s->scr & 0x10u) && !exc_bit(s->exc_pending, SYSTICK_EXC))
            s->event_register = 1;
        exc_set(s->exc_pending, SYSTICK_EXC);
    }
    s->timer_at = systick_timer_at(s);
    sim_exc_update(s);
}

/* The execution priority with the active exceptions giving `prio`, lowered by PRIMASK (0),
 * FAULTMASK (-1) and BASEPRI (its group priority), given as v[0], v[2] and v[1]. BASEPRI
 * holds only the implemented priority bits, and is judged non-zero before its subpriority
 * bits are dropped (ARMv7-M ExecutionPriority: with PRIGROUP 7 any BASEPRI masks all). */
static int32_t apply_masks(const sim_state *s, int32_t prio, const uint32_t v[3])
{
    uint32_t basepri = v[1] & s->prio_mask;
    if (basepri && (int32_t)(basepri & s->group_mask) < prio)
        prio = (int32_t)(basepri & s->group_mask);
    if ((v[0] & 1) && prio > 0)
        prio = 0;
    if (v[2] & 1)
        prio = -1;
    return prio;
}

/* The mask registers' Unicorn ids (PRIMASK, and on ARMv7-M and later BASEPRI and FAULTMASK)
 * appended to `ids`/`ptrs` at `n`, their values to be read into `v` (zeroed): the new count. */
static int add_mask_reads(const sim_state *s, int *ids, void **ptrs, int n, uint32_t v[3])
{
    v[0] = v[1] = v[2] = 0;
    ids[n] = s->primask_regid;
    ptrs[n++] = &v[0];
    if (s->basepri_regid >= 0) {
        ids[n] = s->basepri_regid;
        ptrs[n++] = &v[1];
        ids[n] = s->faultmask_regid;
        ptrs[n++] = &v[2];
    }
    return n;
}

static int32_t masked_priority(void *uc, const sim_state *s, int32_t prio)
{
    int ids[3];
    void *ptrs[3];
    uint32_t v[3];
    int n = add_mask_reads(s, ids, ptrs, 0, v);
    s->reg_read_batch(uc, ids, ptrs, n);
    return apply_masks(s, prio, v);
}

/* The object holding `a` (sim/elf.py's object_at: the last one starting at or below it), or
 * -1. */
static int32_t object_at(const sim_state *s, uint32_t a)
{
    uint32_t lo = 0, hi = s->n_objs;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (s->obj_start[mid] <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || a - s->obj_start[lo - 1] >= s->obj_size[lo - 1])
        return -1;
    return (int32_t)(lo - 1);
}

/* An exception preempts a thread on PSP whose frame ends at `frame`: the thread's stack peak
 * (its object's end minus the lowest address touched; with no object, a lower bound from
 * where the thread was switched in), then SP is the main stack's again. */
void sim_leave_thread_stack(sim_state *s, uint32_t frame)
{
    uint32_t lowest = (s->psp_mode && s->psp_min < frame) ? s->psp_min : frame;
    int32_t i = object_at(s, frame - 1u); /* SP points just past the last word pushed */
    uint32_t idx, peak;
    if (i >= 0) {
        idx = (uint32_t)i;
        peak = s->obj_start[idx] + s->obj_size[idx] - lowest;
    } else {
        idx = s->n_objs;
        peak = s->switched_in_at > lowest ? s->switched_in_at - lowest : 0u;
    }
    if (!s->obj_order[idx]) {
        s->obj_order[idx] = ++s->seen_seq;
        s->obj_peak[idx] = peak;
    } else if (peak > s->obj_peak[idx]) {
        s->obj_peak[idx] = peak;
    }
    s->psp_mode = s->psp_min = s->psp_limit = 0;
}

/* Thread mode resumes on PSP at `sp`: tracked apart from the main stack, bounded below by
 * its object's start. */
void sim_enter_thread_stack(sim_state *s, uint32_t sp)
{
    int32_t i = object_at(s, sp - 1u);
    s->switched_in_at = sp;
    s->psp_mode = 1;
    s->psp_min = sp;
    s->psp_limit = i >= 0 ? s->obj_start[i] : 0u;
}

/* A store by an exception handler (sim/thread_stores.py) writes down to `lowest`: when that
 * lies in an object already seen as a thread's stack, it is part of that stack's peak (an
 * RTOS saving a thread's context below its exception frame). */
static void thread_store(sim_state *s, uint32_t lowest)
{
    int32_t i = object_at(s, lowest);
    if (i < 0 || !s->obj_order[i])
        return;
    uint32_t peak = s->obj_start[i] + s->obj_size[i] - lowest;
    if (peak > s->obj_peak[i])
        s->obj_peak[i] = peak;
}

/* Masks written by the firmware take effect at the next block boundary. */
static int32_t execution_priority(void *uc, const sim_state *s)
{
    return masked_priority(uc, s, s->active_prio);
}

static inline void wr(void *uc, sim_state *s, int r, uint32_t v)
{
    s->sp_known = 0;
    s->reg_write(uc, s->exc_regids[r], &v);
}

/* Registers `which[0..n)` (RG_*) in one call each way. Writes go in the order given; a PC
 * written in a batch does not redirect the running block, so PC is never one of them. */
#define BATCH_MAX 32
static void add_reads(const sim_state *s, const int *which, int n, uint32_t *out, int *ids,
                      void **ptrs)
{
    for (int i = 0; i < n; i++) {
        ids[i] = s->exc_regids[which[i]];
        ptrs[i] = &out[i];
    }
}

static void rd_many(void *uc, const sim_state *s, const int *which, int n, uint32_t *out)
{
    int ids[BATCH_MAX];
    void *ptrs[BATCH_MAX];
    add_reads(s, which, n, out, ids, ptrs);
    s->reg_read_batch(uc, ids, ptrs, n);
}

static void wr_many(void *uc, sim_state *s, const int *which, int n, const uint32_t *in)
{
    s->sp_known = 0;
    int ids[BATCH_MAX];
    const void *ptrs[BATCH_MAX];
    for (int i = 0; i < n; i++) {
        ids[i] = s->exc_regids[which[i]];
        ptrs[i] = &in[i];
    }
    s->reg_write_batch(uc, ids, ptrs, n);
}

/* Host memory behind [addr, addr + n) in SRAM (writable) or, when `flash_ok`, flash; NULL
 * elsewhere. */
static uint8_t *host(const sim_state *s, uint32_t addr, uint32_t n, int flash_ok)
{
    uint32_t off = addr - s->sram_base;
    if (off < s->sram_size && s->sram_size - off >= n)
        return (uint8_t *)s->sram + off;
    off = addr - s->flash_base;
    if (flash_ok && off < s->flash_size && s->flash_size - off >= n)
        return (uint8_t *)s->flash + off;
    /* flash linked elsewhere (an STM32's 0x08000000) is aliased at 0, as the part boots */
    if (flash_ok && s->flash_base && addr < s->flash_size && s->flash_size - addr >= n)
        return (uint8_t *)s->flash + addr;
    return NULL;
}

/* A handler starts (statistics): counted, and its start recorded (the oldest record is
 * dropped when the stack is full, which only firmware that never returns can cause). */
void sim_handler_enter(sim_state *s, uint32_t exc)
{
    s->exc_taken[exc]++;
    if (s->hs_len == HANDLER_STACK) {
        memmove(s->hs_exc, s->hs_exc + 1, (HANDLER_STACK - 1) * sizeof s->hs_exc[0]);
        memmove(s->hs_start, s->hs_start + 1, (HANDLER_STACK - 1) * sizeof s->hs_start[0]);
        s->hs_len--;
    }
    s->hs_exc[s->hs_len] = exc;
    s->hs_start[s->hs_len++] = s->cycles;
}

/* A handler returns: the cycles since its entry (the latest open record of it) are attributed
 * to it. */
void sim_handler_close(sim_state *s, uint32_t exc)
{
    for (uint32_t i = s->hs_len; i-- > 0;) {
        if (s->hs_exc[i] == exc) {
            s->exc_handler_cycles[exc] += s->cycles - s->hs_start[i];
            memmove(s->hs_exc + i, s->hs_exc + i + 1, (s->hs_len - i - 1) * sizeof s->hs_exc[0]);
            memmove(s->hs_start + i, s->hs_start + i + 1,
                    (s->hs_len - i - 1) * sizeof s->hs_start[0]);
            s->hs_len--;
            return;
        }
    }
}

/* Handler mode for `exc` (its vector read already): xPSR with IPSR = exc and the IT state
 * cleared, LR = EXC_RETURN, APSR written back so that Unicorn rebuilds its cached flags, then
 * PC. From the block hook (`from_intr` 0) PC is written alone: a PC written in a batch does not
 * end the block Unicorn is running, a PC written alone does (at the cost of leaving and
 * re-entering Unicorn's execution loop). From the interrupt hook no block is running, so PC
 * goes in the batch. `sp_reg` (RG_SP or RG_PSP: the frame's stack) and CONTROL are written
 * first when given, CONTROL only when it changes. */
static void branch_to_handler(void *uc, sim_state *s, uint32_t exc, uint32_t exc_return,
                              uint32_t handler, uint32_t xpsr, uint32_t nzcv, uint32_t sp,
                              uint32_t control, int sp_reg, int control_changes, int from_intr)
{
    clear_exclusive(uc, s);
    exc_clr(s->exc_pending, exc);
    exc_set(s->exc_active, exc);
    sim_handler_enter(s, exc);
    int ids[6];
    uint32_t v[6];
    int n = 0;
    if (sp_reg >= 0) {
        ids[n] = sp_reg;
        v[n++] = sp;
        if (control_changes) {
            ids[n] = RG_CONTROL;
            v[n++] = control;
        }
    }
    ids[n] = RG_XPSR;
    v[n++] = (xpsr & 0xF80F0000u) | (1u << 24) | exc;
    ids[n] = RG_LR;
    v[n++] = exc_return;
    ids[n] = RG_NZCV;
    v[n++] = nzcv;
    if (from_intr) {
        ids[n] = RG_PC;
        v[n++] = handler | 1u;
    }
    wr_many(uc, s, ids, n, v);
    if (!from_intr)
        wr(uc, s, RG_PC, handler | 1u);
    s->next_seq = handler & ~1u;
    sim_exc_update(s);
}

/* The FP part of an extended frame, in frame order: S0-S15, FPSCR */
static const int fp_regs[17] = {RG_S0,      RG_S0 + 1,  RG_S0 + 2,  RG_S0 + 3,  RG_S0 + 4,
                                RG_S0 + 5,  RG_S0 + 6,  RG_S0 + 7,  RG_S0 + 8,  RG_S0 + 9,
                                RG_S0 + 10, RG_S0 + 11, RG_S0 + 12, RG_S0 + 13, RG_S0 + 14,
                                RG_S0 + 15, RG_FPSCR};
#define FP_FRAME 0x68u /* an extended frame: 8 words, S0-S15, FPSCR, a reserved word */

static int vector_of(const sim_state *s, uint32_t exc, uint32_t *handler)
{
    /* VTOR at the image's table, or at its boot alias at 0 (flash linked at flash_base) */
    int at_table = s->vtor == s->vec_base ||
                   (s->flash_base && s->vec_base >= s->flash_base &&
                    s->vtor == s->vec_base - s->flash_base);
    if (s->vec_entries && at_table && exc >= s->vec_entries)
        return 0; /* past the end of the image's table: Python stops the run */
    const uint8_t *v = host(s, s->vtor + 4u * exc, 4, 1);
    if (v == NULL)
        return 0;
    memcpy(handler, v, 4);
    return 1;
}

/* What ExceptionEntry reads: CONTROL, XPSR (its flags are APSR's), SP, then the frame's
 * R0-R3, R12, LR. */
#define ENTRY_READS 9
static const int entry_regs[ENTRY_READS] = {RG_CONTROL, RG_XPSR, RG_SP, RG_R0, RG_R1,
                                            RG_R2,      RG_R3,   RG_R12, RG_LR};

/* ExceptionEntry of `exc` at the block boundary before `ret` (or after an SVC): the frame on
 * the current stack (MSP, or a thread's PSP), extended with S0-S15 and FPSCR when CONTROL.FPCA
 * is set on an FPU core. `pre`: entry_regs' values when already read, else NULL. 1 when taken;
 * 0 (nothing changed) for Python. */
static int fast_enter(void *uc, sim_state *s, uint32_t exc, uint32_t ret, int from_intr,
                      const uint32_t *pre)
{
    if (!(s->exc_flags & EXC_FAST))
        return 0;
    uint32_t r[ENTRY_READS];
    if (pre != NULL)
        memcpy(r, pre, sizeof r);
    else
        rd_many(uc, s, entry_regs, ENTRY_READS, r);
    uint32_t control = r[0], xpsr = r[1], sp = r[2], nzcv = xpsr & 0xF0000000u;
    uint32_t ipsr = xpsr & 0x1ff;
    int fp = (s->exc_flags & EXC_FPU) && (control & 4); /* CONTROL.FPCA: an extended frame */
    uint32_t size = fp ? FP_FRAME : 32u;
    int on_psp = !ipsr && (control & 2); /* a thread on PSP: SP is the PSP */
    uint32_t handler;
    int aligned = (s->exc_flags & EXC_V6M) || (s->ccr & 0x200);
    uint32_t frame = aligned ? ((sp - size) & ~7u) : sp - size;
    uint32_t forced = (aligned && ((sp - size) & 4)) ? 0x200u : 0u;
    /* a frame that would overflow its stack (below MSPLIM/PSPLIM on ARMv8-M: STKOF; into
     * static data or the heap; below a thread's stack object): Python stops the run */
    if ((s->exc_flags & EXC_V8M) && frame < (on_psp ? s->psplim : s->msplim))
        return 0;
    uint32_t plim = 0; /* the object the thread's SP lies in (whoever set it, however) */
    if (on_psp) {
        int32_t i = object_at(s, sp - 1u);
        plim = i >= 0 ? s->obj_start[i] : 0u;
    }
    if (on_psp ? frame < plim : frame < stack_limit(s))
        return 0;
    uint8_t *mem = host(s, frame, size, 0);
    if (mem == NULL || !vector_of(s, exc, &handler))
        return 0;
    uint32_t w[FP_FRAME / 4];
    memcpy(w, r + 3, 6 * sizeof w[0]);
    w[6] = ret & ~1u;
    w[7] = (xpsr & ~0x200u) | forced;
    if (fp) { /* S0-S15, FPSCR, a reserved word */
        rd_many(uc, s, fp_regs, 17, w + 8);
        w[25] = 0;
    }
    /* the host is little-endian, as the target; constant sizes: no string copy */
    memcpy(mem, w, 32);
    if (fp)
        memcpy(mem + 32, w + 8, FP_FRAME - 32);
    uint32_t psp_bit = on_psp ? 0x04u : 0u;
    uint32_t exc_return = (s->exc_flags & EXC_V8M)
                              ? 0xFFFFFFA0u | (ipsr ? 0u : 0x08u | psp_bit)
                              : (ipsr ? 0xFFFFFFE1u : 0xFFFFFFE9u | psp_bit);
    exc_return |= fp ? 0u : 0x10u;
    if (on_psp) { /* SPSEL=0 then swaps SP to the MSP */
        sim_leave_thread_stack(s, frame);
        branch_to_handler(uc, s, exc, exc_return, handler, xpsr, nzcv, frame, control & ~0xEu,
                          RG_PSP, 1, from_intr);
    } else {
        if (frame < s->min_sp)
            s->min_sp = frame;
        branch_to_handler(uc, s, exc, exc_return, handler, xpsr, nzcv, frame, control & ~0xCu,
                          RG_SP, (control & 4u) != 0, from_intr);
    }
    s->cycles += s->entry_cycles;
    return 1;
}

static int valid_exc_return(const sim_state *s, uint32_t v)
{
    if (!(s->exc_flags & EXC_FPU) && !(v & 0x10u))
        return 0; /* an extended (FP) frame on a core without an FPU */
    if (s->exc_flags & EXC_V8M)
        return (v >> 7) == 0x1FFFFFFu && !(v & 0x43u);
    uint32_t low = v & 0xF;
    return (v >> 5) == 0x7FFFFFFu && (low == 1 || low == 9 || low == 0xD);
}

/* ARMv8-M: the EXC_RETURN the firmware branched with, bit 0 (ES) included, which Unicorn drops
 * from PC: known when the branch that ended the last block is a 16-bit `bx lr` (LR) or `pop
 * {..., pc}` (the word below SP; no 32-bit PC load ends in either halfword). 0: Python finds
 * it (sim.runner's _exc_return_value). */
static int v8m_exc_return(void *uc, sim_state *s, uint32_t pc, uint32_t sp, uint32_t *value)
{
    const uint8_t *p = host(s, s->next_seq - 2u, 2, 1);
    if (p == NULL)
        return 0;
    uint32_t hw = (uint32_t)p[0] | (uint32_t)p[1] << 8, v;
    if (hw == 0x4770u) {
        s->reg_read(uc, s->exc_regids[RG_LR], &v);
    } else if ((hw & 0xFF00u) == 0xBD00u) {
        const uint8_t *w = host(s, sp - 4u, 4, 0);
        if (w == NULL)
            return 0;
        memcpy(&v, w, 4);
    } else {
        return 0;
    }
    if ((v & ~1u) != (pc & ~1u))
        return 0;
    *value = v;
    return 1;
}

/* ExceptionReturn for a branch to EXC_RETURN (intno 8): SysTick accounted up to now, then
 * tail-chaining, or popping the frame (integer or extended) from the stack EXC_RETURN names.
 * 1 when done; 0 for Python (nothing changed but FAULTMASK, which it clears again). */
static int fast_return(void *uc, sim_state *s)
{
    if (!(s->exc_flags & EXC_FAST))
        return 0;
    if (s->cycles >= s->timer_at)
        sim_advance_systick(s);
    /* PC (the EXC_RETURN value), XPSR, SP (in handler mode the MSP), CONTROL; the PSP only
     * when the frame is on it */
    static const int ret_regs[4] = {RG_PC, RG_XPSR, RG_SP, RG_CONTROL};
    uint32_t q[4];
    rd_many(uc, s, ret_regs, 4, q);
    uint32_t pc = q[0], ipsr = q[1] & 0x1ff;
    uint32_t value = pc | 1u;
    if ((s->exc_flags & EXC_V8M) && !v8m_exc_return(uc, s, pc, q[2], &value))
        return 0;
    if (!ipsr || !valid_exc_return(s, value))
        return 0;
    uint64_t active[EXC_WORDS];
    memcpy(active, s->exc_active, sizeof active);
    exc_clr(active, ipsr);
    int any = 0;
    for (uint32_t w = 0; w < EXC_WORDS; w++)
        any |= active[w] != 0;
    int to_thread = (value & 8) != 0;
    if ((to_thread && any && !(s->ccr & 1)) || (!to_thread && !any))
        return 0; /* INVPC */
    if (exc_bit(s->exc_level, ipsr))
        return 0; /* its line is still high: Python pends it again */
    if (to_thread && (s->scr & 2))
        return 0; /* SLEEPONEXIT: Python returns, then sleeps */
    if (ipsr != NMI_EXC && s->faultmask_regid >= 0) { /* DeActivate: FAULTMASK cleared */
        uint32_t zero = 0;
        s->reg_write(uc, s->faultmask_regid, &zero);
    }
    if (s->pend_exc >= 0 &&
        exc_group(s, (uint32_t)s->pend_exc) < masked_priority(uc, s, active_priority(s, active))) {
        uint32_t exc = (uint32_t)s->pend_exc, handler;
        if (!vector_of(s, exc, &handler))
            return 0;
        memcpy(s->exc_active, active, sizeof active);
        sim_handler_close(s, ipsr);
        s->event_register = 1;
        s->tail_chained++;
        branch_to_handler(uc, s, exc, value, handler, q[1], q[1] & 0xF0000000u, 0, 0, -1, 0, 1);
        s->cycles += s->tail_cycles;
        return 1;
    }
    int fp = !(value & 0x10);
    if (fp && !(s->exc_flags & EXC_FPU))
        return 0; /* an FP frame on a core without FPU */
    uint32_t size = fp ? FP_FRAME : 32u;
    int use_psp = to_thread && (value & 4);
    uint32_t frame = q[2], control = q[3];
    if (use_psp)
        s->reg_read(uc, s->exc_regids[RG_PSP], &frame);
    const uint8_t *mem = host(s, frame, size, 1);
    if (mem == NULL)
        return 0;
    uint32_t w[FP_FRAME / 4];
    memcpy(w, mem, 32); /* constant sizes: no string copy */
    if (!(w[7] & (1u << 24)))
        return 0; /* EPSR.T clear in the frame: Python returns into INVSTATE */
    if (((w[7] & 0x1ffu) != 0) == to_thread)
        return 0; /* the frame's IPSR contradicts EXC_RETURN: INVPC */
    if (fp)
        memcpy(w + 8, mem + 32, FP_FRAME - 32);
    uint32_t ipsr_new = to_thread ? 0u : (w[7] & 0x1ff);
    uint32_t fpca = fp ? 4u : 0u; /* CONTROL.FPCA from EXC_RETURN */
    uint32_t new_control = to_thread ? ((control & ~6u) | (use_psp ? 2u : 0u) | fpca)
                                     : ((control & ~4u) | fpca);
    memcpy(s->exc_active, active, sizeof active);
    s->event_register = 1;
    /* XPSR, CONTROL (when it changes), SP, the frame's R0-R3, R12, LR, its S0-S15 and FPSCR
     * when extended, then APSR's flags again (an MSR after the XPSR write rebuilds Unicorn's
     * cached flags), then PC: in the batch, as no block is running in the interrupt hook */
    int pop_regs[29];
    uint32_t v[29];
    uint32_t new_sp = frame + size + ((w[7] & 0x200) ? 4u : 0u);
    int n = 0;
    pop_regs[n] = RG_XPSR;
    v[n++] = (w[7] & ~0x3FFu) | ipsr_new | (1u << 24);
    if (new_control != control) {
        pop_regs[n] = RG_CONTROL;
        v[n++] = new_control;
    }
    pop_regs[n] = RG_SP;
    v[n++] = new_sp;
    static const int frame_regs[6] = {RG_R0, RG_R1, RG_R2, RG_R3, RG_R12, RG_LR};
    for (int i = 0; i < 6; i++) {
        pop_regs[n] = frame_regs[i];
        v[n++] = w[i];
    }
    if (fp) {
        memcpy(pop_regs + n, fp_regs, sizeof fp_regs);
        memcpy(v + n, w + 8, 17 * sizeof v[0]);
        n += 17;
    }
    /* the frame's Q and (DSP cores) GE[3:0] too (an XPSR write leaves GE as it was:
     * Unicorn), then NZCV */
    pop_regs[n] = RG_NZCVQG;
    v[n++] = w[7] & ((s->exc_flags & EXC_DSP) ? 0xF80F0000u : 0xF8000000u);
    pop_regs[n] = RG_NZCV;
    v[n++] = w[7] & 0xF0000000u;
    pop_regs[n] = RG_PC;
    v[n++] = w[6] | 1u;
    clear_exclusive(uc, s);
    wr_many(uc, s, pop_regs, n, v);
    if (use_psp)
        sim_enter_thread_stack(s, new_sp);
    else
        s->psp_mode = s->psp_min = s->psp_limit = 0;
    s->next_seq = w[6] & ~1u;
    s->cycles += s->entry_cycles;
    sim_handler_close(s, ipsr); /* (its return's latency the handler's) */
    sim_exc_update(s);
    return 1;
}

/* A block boundary where a timer is due or an exception is pending: take the pending exception
 * natively when it can preempt and the fast path applies, else hand over to the exception model
 * when the timer is due or the pending exception can preempt. Returns 1 when an exception was
 * taken (the block at addr is not run). */
/* Calls into Python may write any register (the exception model, devices, semihosting):
 * each drops the shadow SP first. */
static int python_event(sim_state *s, uint32_t addr)
{
    s->sp_known = 0;
    return s->on_event(addr);
}

static __attribute__((noinline)) int event_block(void *uc, sim_state *s, uint32_t addr)
{
    if (s->on_event == NULL || s->stop_reason != STOP_NONE)
        return 0;
    if (s->cycles >= s->timer_at) {
        sim_advance_systick(s);
        if (s->cycles >= s->timer_at) {
            /* a device's event: Python runs it; 2 = nothing taken yet, take what it pended
             * natively below if the fast path applies */
            int r = python_event(s, addr);
            if (r != 2 || s->stop_reason != STOP_NONE)
                return r == 1;
        }
    }
    /* the masks only lower the execution priority below the active exceptions' */
    if (s->pend_prio >= s->active_prio)
        return 0;
    if (s->pend_exc < 0 || !(s->exc_flags & EXC_FAST)) {
        if (s->pend_prio < execution_priority(uc, s))
            return python_event(s, addr) == 1;
        return 0;
    }
    /* the entry's registers and the masks in one call */
    int ids[ENTRY_READS + 3];
    void *ptrs[ENTRY_READS + 3];
    uint32_t r[ENTRY_READS], m[3];
    add_reads(s, entry_regs, ENTRY_READS, r, ids, ptrs);
    int n = add_mask_reads(s, ids, ptrs, ENTRY_READS, m);
    s->reg_read_batch(uc, ids, ptrs, n);
    if (s->pend_prio >= apply_masks(s, s->active_prio, m))
        return 0;
    if (fast_enter(uc, s, (uint32_t)s->pend_exc, addr, 0, r))
        return 1;
    return python_event(s, addr) == 1;
}

/* Unicorn's MMIO callbacks for the System Control Space (0xE000E000): a store of PENDSVSET
 * alone to ICSR (how an RTOS asks for a context switch) pends PendSV here, as
 * sim/devices/scs.py would; every other access goes to that device. */
#define ICSR_OFFSET 0xD04u
#define PENDSV_EXC 14u

uint64_t sim_scs_read(void *uc, uint64_t offset, unsigned size, void *user)
{
    (void)uc;
    sim_state *s = (sim_state *)user;
    s->sp_known = 0;
    return s->scs_read(offset, size);
}

/* Privileged: handler mode, or thread mode with CONTROL.nPRIV clear. */
static int privileged(void *uc, const sim_state *s)
{
    uint32_t control = 0, ipsr = 0;
    s->reg_read(uc, s->control_regid, &control);
    if (!(control & 1))
        return 1;
    s->reg_read(uc, s->ipsr_regid, &ipsr);
    return (ipsr & 0x1ff) != 0;
}

void sim_scs_write(void *uc, uint64_t offset, unsigned size, uint64_t value, void *user)
{
    sim_state *s = (sim_state *)user;
    if (offset == ICSR_OFFSET && size == 4 && value == (1u << 28) &&
        (!s->unpriv || privileged(uc, s))) {
        if ((s->scr & 0x10) && !exc_bit(s->exc_pending, PENDSV_EXC))
            s->event_register = 1; /* SEVONPEND: becoming pending is the event */
        exc_set(s->exc_pending, PENDSV_EXC);
        sim_exc_update(s);
        return;
    }
    s->sp_known = 0;
    s->scs_write(offset, size, value);
}

/* Unicorn's interrupt hook: an exception return is finished here when the fast path applies;
 * everything else goes to Python. */
/* SVC (intno 2, PC already past it): taken at once when SVCall's priority is above the
 * execution priority; otherwise (HardFault on the chip) and when the fast path does not apply,
 * 0 for Python. */
static int fast_svc(void *uc, sim_state *s)
{
    if (!(s->exc_flags & EXC_FAST) || exc_group(s, SVCALL_EXC) >= execution_priority(uc, s))
        return 0;
    uint32_t pc = 0;
    s->reg_read(uc, s->exc_regids[RG_PC], &pc);
    return fast_enter(uc, s, SVCALL_EXC, pc, 1, NULL);
}

void sim_intr_hook(void *uc, uint32_t intno, void *user)
{
    sim_state *s = (sim_state *)user;
    if (intno == 8 && s->stop_reason == STOP_NONE && fast_return(uc, s))
        return;
    if (intno == 2 && s->stop_reason == STOP_NONE && s->on_event != NULL && fast_svc(uc, s))
        return;
    s->sp_known = 0;
    if (s->on_intr != NULL)
        s->on_intr(intno);
}

/* A block after which accounting goes on as in sim_block_hook, for the event path. */
static void block_body(void *uc, sim_state *s, uint32_t addr, uint32_t size);

/* A block boundary where a timer is due or an exception is pending: the event first, then the
 * block's accounting unless an exception was taken instead (the block did not run). */
static __attribute__((noinline, noipa)) void event_then_block(void *uc, sim_state *s,
                                                              uint32_t addr, uint32_t size)
{
    if (event_block(uc, s, addr))
        return;
    block_body(uc, s, addr, size);
}

/* The accounting of one block (inlined twice: in the hook and on the event path). */
static inline __attribute__((always_inline)) void block_inline(void *uc, sim_state *s,
                                                               uint32_t addr, uint32_t size)
{
    uint32_t extra = (addr != s->next_seq) ? s->refill : 0u;
    s->next_seq = addr + size;
    s->last_addr = addr;

    uint32_t foff = addr - s->flash_base; /* wraps to a huge value below flash */
    if (LIKELY(foff < s->flash_size)) {
        const block_info *b = &s->bcache[foff >> 1];
        uint32_t count = b->count;
        /* One test for: facts cached for this block size, no SP check due (the block moves
         * no SP and the previous one left no SP sample pending: sp_pending is BF_DYNAMIC_SP
         * or 0), no FP fault or alignment check due, the instruction limit not reached. */
        if (LIKELY(((b->flags | s->sp_pending) & (BF_VALID | s->slow_flags)) == BF_VALID &&
                   b->size == size && s->insns + count <= s->max_insns)) {
            uint32_t cycles = b->cost + extra;
            s->insns += count;
            s->cycles += cycles;
            s->last_count = count;
            s->last_cycles = cycles;
            return;
        }
        if ((b->flags & BF_VALID) && b->size == size) {
            cached_block(uc, s, b, extra);
            return;
        }
    }
    slow_block(uc, s, extra);
}

static void block_body(void *uc, sim_state *s, uint32_t addr, uint32_t size)
{
    block_inline(uc, s, addr, size);
}

/* Called by Unicorn before every translation block. The common case (a cached flash block that
 * leaves SP alone, no SP sample pending, no event due, instruction limit not reached) makes no
 * calls, so it needs no callee-saved registers; everything else is a tail call to an
 * out-of-line function. */
void sim_block_hook(void *uc, uint64_t address, uint32_t size, void *user)
{
    sim_state *s = (sim_state *)user;
    uint32_t addr = (uint32_t)address;
    if (UNLIKELY(s->cycles >= s->event_at)) {
        event_then_block(uc, s, addr, size);
        return;
    }
    block_inline(uc, s, addr, size);
}

/* Code hook on the instruction that follows one writing SP with a value unknown statically:
 * SP now holds the new value and nothing has been stored below it yet. Stops the run before
 * this instruction when SP lies below the stack limit (the frame would overlap static data or
 * the heap), and otherwise records the new low-water mark. */
void sim_sp_hook(void *uc, uint64_t address, uint32_t size, void *user)
{
    sim_state *s = (sim_state *)user;
    (void)size;
    if (s->stop_reason != STOP_NONE)
        return;
    uint32_t sp = 0;
    s->reg_read(uc, s->sp_regid, &sp);
    uint32_t limit = stack_limit(s);
    if ((s->psp_mode || sp < limit) && thread_stack(uc, s, (uint32_t)address, sp, sp))
        return;
    if (sp < s->min_sp)
        s->min_sp = sp;
    if (sp < limit) {
        s->stop_reason = STOP_SP_WRITE;
        s->stop_pc = (uint32_t)address;
        s->stop_addr = sp;
        s->stop_limit = limit;
        s->emu_stop(uc);
    }
}

/* One alignment check (sim/alignment.py): the hook's user data. */
typedef struct {
    sim_state *s;
    int32_t regid; /* the instruction's base register (Unicorn id) */
    uint32_t mask; /* alignment - 1 */
} align_check;

/* Code hook on an LDRD/STRD, LDM/STM, exclusive or FP load/store that ARMv7-M and ARMv8-M
 * always require aligned (Unicorn does not): its offset is a multiple of the alignment, so
 * the base register decides. Stops the run before the instruction when it is not aligned
 * (UsageFault UNALIGNED on the chip). */
void sim_align_hook(void *uc, uint64_t address, uint32_t size, void *user)
{
    const align_check *a = (const align_check *)user;
    sim_state *s = a->s;
    (void)size;
    if (s->stop_reason != STOP_NONE)
        return;
    uint32_t base = 0;
    s->reg_read(uc, a->regid, &base);
    if (base & a->mask) {
        s->stop_reason = STOP_UNALIGNED;
        s->stop_pc = (uint32_t)address;
        s->stop_addr = base;
        s->stop_limit = a->mask + 1u;
        s->emu_stop(uc);
    }
}

/* One store by an exception handler (sim/thread_stores.py): the hook's user data. */
typedef struct {
    sim_state *s;
    int32_t base, index; /* Unicorn ids; index -1: none */
    int32_t offset;      /* the lowest byte written: base + (index << shift) + offset */
    uint16_t shift, cond; /* cond as encoded (14: always) */
} store_check;

/* Whether condition `cond` (0-14, as encoded) holds for the flags in `nzcv` (APSR[31:28]). */
static int condition_holds(uint32_t cond, uint32_t nzcv)
{
    uint32_t n = nzcv >> 31 & 1, z = nzcv >> 30 & 1, c = nzcv >> 29 & 1, v = nzcv >> 28 & 1;
    int r;
    switch (cond >> 1) {
    case 0: r = z; break;
    case 1: r = c; break;
    case 2: r = n; break;
    case 3: r = v; break;
    case 4: r = c && !z; break;
    case 5: r = n == v; break;
    case 6: r = !z && n == v; break;
    default: return 1;
    }
    return (cond & 1) ? !r : r;
}

/* Code hook on a store inside an exception handler whose base is not SP: before it runs, the
 * lowest address it writes, for the thread stacks' peaks. */
void sim_store_hook(void *uc, uint64_t address, uint32_t size, void *user)
{
    const store_check *c = (const store_check *)user;
    sim_state *s = c->s;
    (void)address;
    (void)size;
    if (s->stop_reason != STOP_NONE || !s->n_objs)
        return;
    int ids[3] = {c->base, c->index >= 0 ? c->index : c->base, s->exc_regids[RG_NZCV]};
    uint32_t v[3] = {0, 0, 0};
    void *ptrs[3] = {&v[0], &v[1], &v[2]};
    s->reg_read_batch(uc, ids, ptrs, 3);
    if (c->cond != 14 && !condition_holds(c->cond, v[2]))
        return;
    thread_store(s, v[0] + (c->index >= 0 ? v[1] << c->shift : 0u) + (uint32_t)c->offset);
}

/* Code hook on an SDIV/UDIV (sim/alignment.py): with the trap enabled (mask != 0, set while
 * CCR.DIV_0_TRP is), stops the run before a divide whose divisor register is 0 (UsageFault
 * DIVBYZERO on the chip). */
void sim_div0_hook(void *uc, uint64_t address, uint32_t size, void *user)
{
    const align_check *a = (const align_check *)user;
    sim_state *s = a->s;
    (void)size;
    if (!a->mask || s->stop_reason != STOP_NONE)
        return;
    uint32_t divisor = 1;
    s->reg_read(uc, a->regid, &divisor);
    if (divisor == 0) {
        s->stop_reason = STOP_DIV_BY_ZERO;
        s->stop_pc = (uint32_t)address;
        s->emu_stop(uc);
    }
}

/* One word or halfword LDR/STR (sim/alignment.py: unaligned_trap_checks), the user data of its
 * code hook: the address is base + disp + (index << shift). */
typedef struct {
    sim_state *s;
    int32_t base, index; /* Unicorn register ids; index -1: none */
    int32_t disp;
    uint32_t shift;
    uint32_t mask;       /* size - 1 while CCR.UNALIGN_TRP is set, 0 while it is clear */
    uint32_t pad;
} access_check;

/* Code hook on a word or halfword LDR/STR while CCR.UNALIGN_TRP may be set: stops the run before
 * one whose address is not a multiple of its size (UsageFault UNALIGNED on the chip). */
void sim_unalign_trp_hook(void *uc, uint64_t address, uint32_t size, void *user)
{
    const access_check *a = (const access_check *)user;
    sim_state *s = a->s;
    (void)size;
    if (!a->mask || s->stop_reason != STOP_NONE)
        return;
    uint32_t base = 0, index = 0;
    s->reg_read(uc, a->base, &base);
    if (a->index >= 0)
        s->reg_read(uc, a->index, &index);
    uint32_t ea = base + (uint32_t)a->disp + (index << a->shift);
    if (ea & a->mask) {
        s->stop_reason = STOP_UNALIGN_TRP;
        s->stop_pc = (uint32_t)address;
        s->stop_addr = ea;
        s->stop_limit = a->mask + 1u;
        s->emu_stop(uc);
    }
}

/* Code hook on a marked address: records the instructions and cycles retired before it. The
 * block hook has already counted the whole block the address lies in, from last_addr: that
 * block is taken back, and when the mark lies inside it (an entry reached by falling through),
 * the instructions from the block start up to the mark, which did retire, are added again
 * with the block's refill. */
void sim_mark_hook(void *uc, uint64_t address, uint32_t size, void *user)
{
    sim_state *s = (sim_state *)user;
    (void)uc;
    (void)size;
    uint64_t insns = s->insns - s->last_count, cycles = s->cycles - s->last_cycles;
    uint32_t addr = (uint32_t)address, start = s->last_addr;
    if (addr > start && addr < s->next_seq) {
        block_info part, whole;
        range_facts(s, start, addr - start, &part, NULL);
        range_facts(s, start, s->next_seq - start, &whole, NULL);
        insns += part.count;
        cycles += part.cost + (s->last_cycles - whole.cost);
    }
    uint32_t kind = MARK_RECORD;
    for (uint32_t i = 0; i < s->n_marks; i++)
        if (s->mark_addrs[i] == addr)
            kind = s->mark_kinds[i];
    if (kind == MARK_PAUSE) {
        if (!s->paused) {
            s->paused = 1;
            s->pause_insns = insns;
            s->pause_cycles = cycles;
        }
        return;
    }
    if (s->paused) { /* a resume, or a record: the pause ends here */
        s->paused = 0;
        s->paused_insns += insns - s->pause_insns;
        s->paused_cycles += cycles - s->pause_cycles;
    }
    if (kind == MARK_RESUME)
        return;
    if (s->marks_len < s->marks_cap) {
        uint64_t *m = s->marks + 3u * s->marks_len;
        m[0] = address;
        m[1] = insns - s->paused_insns;
        m[2] = cycles - s->paused_cycles;
    }
    s->marks_len++;
}

/* Instructions in [start, end) and their base cycles (*cost): what the run report takes back
 * when a fault or an exit cuts short a block that was counted whole. */
uint32_t sim_range(const sim_state *s, uint32_t start, uint32_t end, uint32_t *cost)
{
    block_info t;
    range_facts(s, start, end - start, &t, NULL);
    *cost = t.cost;
    return t.count;
}

/* The layout of sim_state and block_info as this compiler laid them out, for sim/native.py to
 * check its ctypes mirror against at load: out[0] = sizeof(sim_state), then the offset of every
 * field in declaration order, then sizeof(block_info) and the offsets of its fields. Returns the
 * number of values (at most cap are written). */
#define FIELD(type, name) offsetof(type, name),
static const uint32_t layout[] = {
    sizeof(sim_state),
    FIELD(sim_state, flash) FIELD(sim_state, sram) FIELD(sim_state, cost) FIELD(sim_state, spd)
    FIELD(sim_state, bcache) FIELD(sim_state, reg_read) FIELD(sim_state, emu_stop)
    FIELD(sim_state, flash_base) FIELD(sim_state, flash_size) FIELD(sim_state, sram_base)
    FIELD(sim_state, sram_size) FIELD(sim_state, refill) FIELD(sim_state, static_end)
    FIELD(sim_state, brk_addr) FIELD(sim_state, msp_floor) FIELD(sim_state, sp_regid) FIELD(sim_state, max_insns)
    FIELD(sim_state, insns) FIELD(sim_state, cycles) FIELD(sim_state, min_sp)
    FIELD(sim_state, next_seq) FIELD(sim_state, last_addr) FIELD(sim_state, stop_reason)
    FIELD(sim_state, stop_pc) FIELD(sim_state, stop_addr) FIELD(sim_state, stop_limit)
    FIELD(sim_state, sp_pending) FIELD(sim_state, sp_shadow) FIELD(sim_state, sp_known)
    FIELD(sim_state, last_count) FIELD(sim_state, last_cycles)
    FIELD(sim_state, marks) FIELD(sim_state, marks_cap) FIELD(sim_state, marks_len)
    FIELD(sim_state, fp) FIELD(sim_state, slow_flags)
    FIELD(sim_state, event_at) FIELD(sim_state, timer_at) FIELD(sim_state, device_at)
    FIELD(sim_state, on_event)
    FIELD(sim_state, pend_prio) FIELD(sim_state, active_prio) FIELD(sim_state, group_mask)
    FIELD(sim_state, prio_mask)
    FIELD(sim_state, primask_regid) FIELD(sim_state, faultmask_regid)
    FIELD(sim_state, basepri_regid) FIELD(sim_state, psp_mode) FIELD(sim_state, psp_limit)
    FIELD(sim_state, psp_min) FIELD(sim_state, control_regid) FIELD(sim_state, ipsr_regid)
    FIELD(sim_state, exc_pending) FIELD(sim_state, exc_active) FIELD(sim_state, exc_enabled)
    FIELD(sim_state, exc_level)
    FIELD(sim_state, exc_prio) FIELD(sim_state, pend_exc) FIELD(sim_state, vtor)
    FIELD(sim_state, ccr) FIELD(sim_state, entry_cycles) FIELD(sim_state, tail_cycles)
    FIELD(sim_state, exc_flags) FIELD(sim_state, event_register)
    FIELD(sim_state, exc_taken) FIELD(sim_state, exc_handler_cycles)
    FIELD(sim_state, tail_chained) FIELD(sim_state, hs_len) FIELD(sim_state, hs_exc)
    FIELD(sim_state, hs_start) FIELD(sim_state, reg_write)
    FIELD(sim_state, reg_read_batch) FIELD(sim_state, reg_write_batch)
    FIELD(sim_state, on_intr) FIELD(sim_state, exc_regids) FIELD(sim_state, scr)
    FIELD(sim_state, msplim) FIELD(sim_state, psplim) FIELD(sim_state, vec_base)
    FIELD(sim_state, vec_entries) FIELD(sim_state, min_sp_prev) FIELD(sim_state, min_sp_at)
    FIELD(sim_state, unpriv)
    FIELD(sim_state, scs_read) FIELD(sim_state, scs_write) FIELD(sim_state, obj_start)
    FIELD(sim_state, obj_size) FIELD(sim_state, obj_peak) FIELD(sim_state, obj_order)
    FIELD(sim_state, n_objs) FIELD(sim_state, seen_seq) FIELD(sim_state, switched_in_at)
    FIELD(sim_state, st_zero_at) FIELD(sim_state, st_csr) FIELD(sim_state, st_rvr)
    FIELD(sim_state, st_countflag) FIELD(sim_state, st_stopped) FIELD(sim_state, st_div)
    FIELD(sim_state, align) FIELD(sim_state, xfer) FIELD(sim_state, gpr_regids)
    FIELD(sim_state, sp_check) FIELD(sim_state, sp_mismatches) FIELD(sim_state, sp_mismatch_pc)
    FIELD(sim_state, mark_addrs) FIELD(sim_state, mark_kinds) FIELD(sim_state, n_marks)
    FIELD(sim_state, paused) FIELD(sim_state, pause_insns) FIELD(sim_state, pause_cycles)
    FIELD(sim_state, paused_insns) FIELD(sim_state, paused_cycles) FIELD(sim_state, sram_msr)
    FIELD(sim_state, ctx_save) FIELD(sim_state, ctx_restore) FIELD(sim_state, excl_ctx)
    FIELD(sim_state, excl_off)
    sizeof(block_info),
    FIELD(block_info, cost) FIELD(block_info, spmin) FIELD(block_info, count)
    FIELD(block_info, size) FIELD(block_info, flags) FIELD(block_info, spnet)
    FIELD(block_info, amask)
};
#undef FIELD

/* The lowest address the main stack may reach (for the exception model's frame checks). */
uint32_t sim_stack_limit(const sim_state *s) { return stack_limit(s); }

uint32_t sim_layout(uint32_t *out, uint32_t cap)
{
    uint32_t n = (uint32_t)(sizeof(layout) / sizeof(layout[0]));
    for (uint32_t i = 0; i < n && i < cap; i++)
        out[i] = layout[i];
    return n;
}

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, .m_name = "_blockhook",
                                    .m_doc = "Native block hook, loaded with ctypes.",
                                    .m_size = -1};

PyMODINIT_FUNC PyInit__blockhook(void) { return PyModule_Create(&module); }
