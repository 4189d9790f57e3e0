"""Bare Unicorn: the baseline `ebnn-sim run` is compared against.

Run as its own process (``python bench/bare_unicorn.py ELF --flash N --sram N``): it imports
only the standard library and unicorn, maps flash and SRAM the way the simulator does, writes
the ELF's PT_LOAD segments, sets SP and PC from the vector table and runs. No block or code
hooks: one UC_HOOK_INTR Python hook serves the semihosting BKPT 0xAB calls the benchmark
firmware makes (console output, console input and exit), which run a handful of times per run
(a few dozen per image for the eBNN harness). It counts nothing, so it is the floor for any
emulator built on Unicorn.

``run(elf_bytes, flash, sram, cpu, stdin)`` does the same in-process and returns the console
output, the exit status and the seconds spent in ``emu_start`` (``--stdin FILE`` on the command
line): ``python -m bench throughput`` compares it with `run`, `profile` and `verify` on the same
eBNN firmware and the same images.
"""

import argparse
import struct
import sys
import time

from unicorn import UC_ARCH_ARM, UC_HOOK_INTR, UC_MODE_THUMB, Uc
from unicorn import arm_const as R

FLASH_BASE = 0x0000_0000
SRAM_BASE = 0x2000_0000
PT_LOAD = 1
EXCP_BKPT = 7
SYS_WRITEC, SYS_WRITE0, SYS_WRITE, SYS_READ = 0x03, 0x04, 0x05, 0x06
SYS_EXIT, SYS_EXIT_EXTENDED = 0x18, 0x20
ADP_STOPPED_APPLICATION_EXIT = 0x20026
CPUS = {
    "cortex-m0plus": R.UC_CPU_ARM_CORTEX_M0,
    "cortex-m3": R.UC_CPU_ARM_CORTEX_M3,
    "cortex-m4": R.UC_CPU_ARM_CORTEX_M4,
    "cortex-m7": R.UC_CPU_ARM_CORTEX_M7,
    "cortex-m33": R.UC_CPU_ARM_CORTEX_M33,
}


def load_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(physical address, file bytes) of each PT_LOAD segment of a 32-bit little-endian ELF."""
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        raise SystemExit("not a 32-bit little-endian ELF")
    phoff, = struct.unpack_from("<I", data, 28)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    segments = []
    for i in range(phnum):
        p_type, p_offset, _vaddr, p_paddr, p_filesz = struct.unpack_from(
            "<5I", data, phoff + i * phentsize)
        if p_type == PT_LOAD and p_filesz:
            segments.append((p_paddr, data[p_offset : p_offset + p_filesz]))
    return segments


def run(elf: bytes, flash: int, sram: int, cpu: str = "cortex-m3",
        stdin: bytes = b"", out: bytearray | None = None) -> tuple[bytes, int, float]:
    """Run the ELF from its reset vector: (console output, exit status, emu_start seconds)."""
    segments = load_segments(elf)
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)  # the core's own model, as the simulator runs it
    uc.ctl_set_cpu_model(CPUS[cpu])
    uc.mem_map(FLASH_BASE, flash, 5)  # read | exec
    uc.mem_map(SRAM_BASE, sram, 7)  # read | write | exec
    for addr, blob in segments:
        uc.mem_write(addr, blob)
    sp0, reset = struct.unpack("<II", bytes(uc.mem_read(FLASH_BASE, 8)))
    uc.reg_write(R.UC_ARM_REG_SP, sp0)

    console = bytearray() if out is None else out
    status: list[int] = []
    pos = [0]

    def cstring(addr: int) -> bytes:
        s = bytearray()
        while True:  # aligned 64-byte chunks never cross the end of a mapped region
            at = addr + len(s)
            chunk = bytes(uc.mem_read(at, 64 - at % 64))
            nul = chunk.find(b"\0")
            if nul >= 0:
                return bytes(s + chunk[:nul])
            s += chunk

    def on_interrupt(uc: Uc, intno: int, _user: object) -> None:
        pc = uc.reg_read(R.UC_ARM_REG_PC)
        if intno != EXCP_BKPT or bytes(uc.mem_read(pc, 2)) != b"\xab\xbe":
            status.append(128 + intno)
            uc.emu_stop()
            return
        op, arg = uc.reg_read(R.UC_ARM_REG_R0), uc.reg_read(R.UC_ARM_REG_R1)
        if op in (SYS_EXIT, SYS_EXIT_EXTENDED):
            if op == SYS_EXIT_EXTENDED:
                reason, sub = struct.unpack("<II", bytes(uc.mem_read(arg, 8)))
            else:
                reason, sub = arg, 0
            status.append(sub if reason == ADP_STOPPED_APPLICATION_EXIT else 1)
            uc.emu_stop()
            return
        result = 0
        if op == SYS_WRITEC:
            console.extend(bytes(uc.mem_read(arg, 1)))
        elif op == SYS_WRITE0:
            console.extend(cstring(arg))
        elif op == SYS_WRITE:
            _fd, buf, n = struct.unpack("<III", bytes(uc.mem_read(arg, 12)))
            console.extend(bytes(uc.mem_read(buf, n)))
        elif op == SYS_READ:  # console input; returns the number of bytes NOT read
            _fd, buf, n = struct.unpack("<III", bytes(uc.mem_read(arg, 12)))
            chunk = stdin[pos[0] : pos[0] + n]
            pos[0] += len(chunk)
            if chunk:
                uc.mem_write(buf, chunk)
            result = n - len(chunk)
        uc.reg_write(R.UC_ARM_REG_R0, result)
        uc.reg_write(R.UC_ARM_REG_PC, (pc + 2) | 1)

    uc.hook_add(UC_HOOK_INTR, on_interrupt)
    t0 = time.perf_counter()
    uc.emu_start(reset | 1, 0xFFFFFFFF)
    seconds = time.perf_counter() - t0
    return bytes(console), (status[0] if status else 2), seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("elf")
    ap.add_argument("--flash", type=int, required=True, help="bytes of flash to map")
    ap.add_argument("--sram", type=int, required=True, help="bytes of SRAM to map")
    ap.add_argument("--cpu", default="cortex-m3", choices=sorted(CPUS))
    ap.add_argument("--stdin", default=None, help="file the firmware reads as console input")
    args = ap.parse_args()

    with open(args.elf, "rb") as fh:
        elf = fh.read()
    stdin = b""
    if args.stdin is not None:
        with open(args.stdin, "rb") as fh:
            stdin = fh.read()
    console, status, _ = run(elf, args.flash, args.sram, args.cpu, stdin)
    sys.stdout.buffer.write(console)
    sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
