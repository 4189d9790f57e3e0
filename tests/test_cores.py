"""Every target emulates its own core: what the core lacks faults as on the chip, with the
precise fault; stack overflow is caught whatever moves SP."""

import pytest

import sim
from toolchain.cores import get_core
from toolchain.profiles import TARGETS

# case of tests/programs/isa.S -> (instruction as reported, the cores that have it)
ISA = {
    1: ("udiv r4, r1, r2", {"cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33"}),
    2: ("ldr.w r4, [r0, #4]", {"cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33"}),
    3: ("vadd.f32 s0, s1, s2", {"cortex-m4", "cortex-m7", "cortex-m33"}),
    4: ("tt r4, r1", {"cortex-m33"}),
    5: ("sadd8 r4, r1, r2", {"cortex-m4", "cortex-m7", "cortex-m33"}),
    6: ("mcr p15, #0, r1, c7, c5, #0", set()),
    # Unicorn's Cortex-M3 runs these two, its Cortex-M0+ the next two: sim/isa_gaps.py stops them
    7: ("smlad r4, r1, r2, r1", {"cortex-m4", "cortex-m7", "cortex-m33"}),
    8: ("sxtab r4, r1, r2", {"cortex-m4", "cortex-m7", "cortex-m33"}),
    9: ("cbz r2, #", {"cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33"}),
    10: ("it eq", {"cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33"}),
}


def test_the_engine_runs_the_targets_own_core(firmware):
    for name, target in TARGETS.items():
        s = sim.Simulator(firmware.image("loop.S", runtime=False, target=name),
                          sim.RunOptions())
        assert s.uc.ctl_get_cpu_model() == get_core(target.core).unicorn_model, name


@pytest.mark.parametrize("case", list(ISA))
@pytest.mark.parametrize("target", list(TARGETS))
def test_an_instruction_the_core_lacks_faults_on_it(firmware, target, case):
    text, cores = ISA[case]
    core = get_core(TARGETS[target].core)
    image = firmware.image("isa.S", runtime=False, target=target, defines={"CASE": case})
    report = sim.run(image)
    if core.name in cores and case != 3:
        assert (report.status, report.exit_code) == ("ok", 0), report.fault
        return
    assert report.status == "fault", (target, case)
    fault = report.fault
    assert fault.pc == image.symbols["probe"]
    assert fault.instruction == text or (text.endswith("#")
                                         and fault.instruction.startswith(text)), fault
    text = fault.instruction
    v6m = core.architecture == "armv6-m"
    if case == 3 and core.fpu is not None:
        # The FPU exists but the (absent) start-up code never enabled it: NOCP, as on hardware,
        # caught before the block holding the instruction ran.
        assert "the start-up code must enable the FPU" in fault.message
        assert report.instructions == 0
        return
    if case == 3 and not v6m:
        assert fault.message == ("floating-point instruction: cortex-m3 has no FPU "
                                 "(UsageFault NOCP)")
    elif case == 6 and not v6m:
        assert fault.message == (f"access to coprocessor p15, which {core.name} does not have "
                                 "(UsageFault NOCP)")
    else:
        assert fault.kind == "undefined_instruction"
        assert fault.message == (
            f"undefined instruction ({'HardFault' if v6m else 'UsageFault UNDEFINSTR'}): "
            f"`{text}` is not in {core.name}'s instruction set ({core.architecture})")
    assert report.instructions == 4  # what came before the probe retired, nothing more


@pytest.mark.parametrize(("target", "defines"), [
    ("curie", {"N": 20000}),  # VLA: sub sp, sp, rN
    ("stm32l031", {"N": 9000}),
    ("stm32l031", {"FRAME": 9000}),  # a 9000-byte frame on M0+: add sp, rN
])
def test_stack_overflow_by_a_computed_sp_is_caught_before_static_data_is_written(
        firmware, target, defines):
    image = firmware.image("vla.c", target=target, defines=defines)
    s = sim.Simulator(image, sim.RunOptions())
    report = s.run()
    assert report.status == "fault" and report.stdout == ""
    fault = report.fault
    assert fault.kind == "stack_overflow"
    assert "this instruction moved SP to" in fault.message
    static_end = image.static_end
    assert fault.registers["sp"] < static_end  # SP really is below the limit ...
    canary = s.read_memory(image.symbols["canary"], 16)
    assert canary == b"".join(v.to_bytes(4, "little") for v in (1, 2, 3, 4))  # ... untouched
    # the stack peak is the real depth: from the top of SRAM down to where SP went
    assert report.stack_peak == s.sram_size + 0x2000_0000 - fault.registers["sp"]
    assert report.stack_peak > report.sram_size - report.static


@pytest.mark.parametrize("target", ["curie", "stm32l031"])
def test_a_computed_sp_within_bounds_runs_and_counts_its_depth(firmware, target):
    report = sim.run(firmware.image("vla.c", target=target, defines={"N": 1000}))
    assert (report.status, report.exit_code, report.stdout) == ("ok", 0, "survived\n")
    assert 1000 < report.stack_peak < 1200


def test_isa_gaps_name_what_each_architecture_lacks():
    from sim.isa_gaps import lacks

    # ARMv7-M has these (saturate, extend, long multiply); the DSP forms are ARMv7E-M's
    for m in ("ssat", "usat", "sxtb", "uxth", "smull", "umlal", "mla", "bls", "cbz", "ite"):
        assert not lacks("armv7-m", m), m
    for m in ("smlad", "smladeq", "sxtab", "usad8", "ssat16", "smulwb", "uadd8", "sel"):
        assert lacks("armv7-m", m) and lacks("armv6-m", m), m
        assert not lacks("armv7e-m", m) and not lacks("armv8-m.main", m), m
    for m in ("cbz", "cbnz", "it", "itte", "iteee"):
        assert lacks("armv6-m", m) and not lacks("armv7-m", m), m
    assert not lacks("armv6-m", "sxtb") and not lacks("armv6-m", "rev16")


@pytest.mark.parametrize(("target", "bits"), [
    ("curie", 0x3FFFFF80), ("nrf52832", 0x3FFFFF80), ("stm32l031", 0xFFFFFF00),
    ("stm32f746", 0xFFFFFF80), ("stm32l552", 0xFFFFFF80)])
def test_vtor_keeps_the_bits_its_core_implements(firmware, target, bits):
    """TBLOFF is bits 29:7 on the M3 and M4, 31:8 on the STM32L0's M0+ (it read back every bit
    from 7 up on every core: s52 core review #11)."""
    s = sim.Simulator(firmware.image("loop.S", runtime=False, target=target), sim.RunOptions())
    scs = s.device("scs")
    scs.write(0xD08, 4, 0xFFFFFFFF)
    assert scs.read(0xD08, 4) == bits


def test_armv6m_has_no_ictr_and_no_iabr(firmware):
    """ICTR and NVIC_IABR are ARMv7-M's: on the M0+ they read 0 (IABR showed the active bits:
    s52 core review #11)."""
    s = sim.Simulator(firmware.image("loop.S", runtime=False, target="stm32l031"),
                      sim.RunOptions())
    s.exceptions.active |= 1 << 16  # IRQ0 active
    assert s.device("scs").read(0x300, 4) == 0 and s.device("scs").read(0x004, 4) == 0
    m3 = sim.Simulator(firmware.image("loop.S", runtime=False, target="curie"), sim.RunOptions())
    m3.exceptions.active |= 1 << 16
    assert m3.device("scs").read(0x300, 4) == 1


def test_a_float_instruction_on_the_m3_is_nocp_with_dsp_code_in_the_image(firmware):
    """The Cortex-M3 has no coprocessors: vmul.f64 is NOCP, also when the image holds a DSP
    instruction, which turns the native trap on (it became UNDEFINSTR: s52 round 2, L3)."""
    image = firmware.image("isa.S", runtime=False, target="curie", defines={"CASE": 11})
    report = sim.run(image)
    assert report.status == "fault" and report.fault.pc == image.symbols["probe"]
    assert report.fault.message == ("floating-point instruction: cortex-m3 has no FPU "
                                    "(UsageFault NOCP)")


@pytest.mark.parametrize(("target", "mvfr"), [
    ("curie", None), ("stm32l031", None), ("nrf52832", (0x10110021, 0x11000011, None)),
    ("stm32f746", (0x10110021, 0x11000011, 0x40)), ("stm32l552", (0x10110021, 0x11000011, 0x40))])
def test_the_fpu_feature_registers_name_the_fpu(firmware, target, mvfr):
    """MVFR0-2 read what each core's single-precision FPU reads (they read 0, so CMSIS
    SCB_GetFPUType() found no FPU on the M7 and M33: s55 firmware review L6), read-only; a
    core without an FPU has none (unmodelled, as MVFR2 on the M4)."""
    s = sim.Simulator(firmware.image("loop.S", runtime=False, target=target), sim.RunOptions())
    scs = s.device("scs")
    scs.reset()
    for i, want in enumerate(mvfr or (None, None, None)):
        scs.write(0xF40 + 4 * i, 4, 0)
        if want is None:
            assert not scs._known(0xF40 + 4 * i), (target, i)
        else:
            assert scs.read(0xF40 + 4 * i, 4) == want, (target, i)


def test_the_m7_branch_predictor_always_reads_as_one(firmware):
    """CCR.BP (bit 18) is RAO on the Cortex-M7 (DUI0646 4.3.7): 0x00040200 at reset; DC and IC
    read back (s55 firmware review L6)."""
    s = sim.Simulator(firmware.image("loop.S", runtime=False, target="stm32f746"),
                      sim.RunOptions())
    scs = s.device("scs")
    assert scs.read(0xD14, 4) == 0x0004_0200
    scs.write(0xD14, 4, 0x0003_0000)
    assert scs.read(0xD14, 4) == 0x0007_0200
    m4 = sim.Simulator(firmware.image("loop.S", runtime=False, target="nrf52832"),
                       sim.RunOptions())
    assert m4.device("scs").read(0xD14, 4) == 0x0000_0200
