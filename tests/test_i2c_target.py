"""The STM32L0's I2C1 as a target (sim/devices/stm32l0_i2c_target.py), addressed by the run's
host (--i2c controller=FILE, sim/i2c_controller.py): the firmware of tests/programs/irq/
i2c_target.c answers a host's commands, polled and interrupt-driven; the report's
``i2c.controller``; bad host files."""

import re
from pathlib import Path

import pytest

import sim
from sim.i2c_targets import parse_spec
from tests.helpers import check_one
from tests.test_exceptions import irq_program

LIMIT = ("--max-instructions", "20000000")
SCL = 100_000


def target(firmware, case: str, **defines):
    return irq_program(firmware, "i2c_target.c", "stm32l031",
                       **{f"CASE_{case}": None, **defines})


def host_file(tmp_path: Path, transactions: str, scl: int = SCL) -> Path:
    path = tmp_path / "host.toml"
    path.write_text(f"scl_hz = {scl}\n{transactions}")
    return path


def command(at: str, n: int, address: int = 0x42) -> str:
    """The host's command [0x10, n], then (a transaction of its own) a read of 2 bytes."""
    return (f'[[transaction]]\nat = "{at}"\naddress = {address}\nwrite = [0x10, {n}]\n'
            f'[[transaction]]\nat = "{at}"\naddress = {address}\nread = 2\n')


def combined(at: str, n: int) -> str:
    """The command and the read in one transaction: a repeated start between them."""
    return f'[[transaction]]\nat = "{at}"\naddress = 0x42\nwrite = [0x10, {n}]\nread = 2\n'


def log(report) -> list[tuple[str, str, str]]:
    return [(t["write"], t["read"], t["status"]) for t in report["i2c"]["controller"]["log"]]


def test_a_polled_target_answers_the_hosts_commands(firmware, cli, tmp_path):
    """HAL_I2C_Slave_Receive then _Transmit, twice: the host writes [0x10, 5] and reads 00 19
    (25), then [0x10, 12] and reads 00 90 (144); each transaction's time is its SCL periods
    (address 10, a byte 9, a stop 1) plus what the firmware took to let the clock go."""
    host = host_file(tmp_path, command("1ms", 5) + command("3ms", 12))
    res = cli("run", target(firmware, "poll"), "--i2c", f"controller={host}",
              "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.stderr
    report = res.report
    assert report["stdout"] == "cmd 00001005\ncmd 0000100c\n"
    assert log(report) == [("10 05", "", "done"), ("", "00 19", "done"),
                           ("10 0c", "", "done"), ("", "00 90", "done")]
    entries = report["i2c"]["controller"]["log"]
    assert entries[0]["ms"] == 1.0 and entries[2]["ms"] == 3.0
    write_ms = (10 + 2 * 9 + 1) / SCL * 1e3
    assert write_ms <= entries[0]["end_ms"] - entries[0]["ms"] < write_ms + 0.05
    assert entries[1]["ms"] >= entries[0]["end_ms"]  # (the bus was busy: it waited)
    assert report["i2c"]["controller"] | {"log": None} == {
        "file": str(host), "scl_hz": SCL, "transactions": 4, "begun": 4, "done": 4,
        "log": None}
    assert report["warnings"] == []
    assert ("transactions of the host (host.toml) with the part: 4 done, of 4"
            in " ".join(res.stderr.split()))  # (the summary's i2c row)


def test_the_bytes_by_dma(firmware, cli, tmp_path):
    """HAL_I2C_Slave_Receive_DMA and _Transmit_DMA: the DMA reads RXDR at each RXNE and
    writes TXDR at each TXIS; the host gets the polled run's answer."""
    host = host_file(tmp_path, command("1ms", 6))
    res = cli("run", target(firmware, "dma"), "--i2c", f"controller={host}",
              "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report["exit_code"]
    assert res.report["stdout"] == "cmd 00001006\n"
    assert log(res.report) == [("10 06", "", "done"), ("", "00 24", "done")]


def test_an_interrupt_driven_target_in_listen_mode(firmware, cli, tmp_path):
    """The core in WFI; ADDR, RXNE, TXIS, NACKF and STOPF interrupts: a write and a read with
    a repeated start, the answer made at the read's ADDR from the command just received."""
    host = host_file(tmp_path, combined("2ms", 7) + combined("4ms", 200), scl=400_000)
    res = cli("run", target(firmware, "irq"), "--i2c", f"controller={host}",
              "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.stderr
    report = res.report
    assert report["stdout"] == "cmd 00001007\ncmd 000010c8\n"
    assert log(report) == [("10 07", "00 31", "done"), ("10 c8", "9c 40", "done")]
    assert report["exceptions"]["taken"]["IRQ23"] >= 8
    assert report["sleep_cycles"] > report["cycles"]


@pytest.mark.parametrize("wupen", [True, False])
def test_the_address_wakes_the_part_from_stop_mode_with_wupen(firmware, cli, tmp_path, wupen):
    """CR1.WUPEN, I2C1 on the HSI16, the core in Stop mode while idle: the address match
    wakes the part (ADDR, IRQ 23) and the transfer goes on awake; without WUPEN I2C1 is
    unclocked in Stop mode: the address is not acknowledged, nothing wakes the part."""
    host = host_file(tmp_path, '[[transaction]]\nat = "2ms"\naddress = 0x42\n'
                     'write = [0x10, 3]\n')
    defines = {} if wupen else {"NO_WUPEN": None}
    res = cli("run", target(firmware, "stop", **defines), "--i2c", f"controller={host}",
              *LIMIT)
    report = res.report
    if wupen:
        assert res.returncode == 0, res.stderr
        assert report["stdout"] == "cmd 00001003\n"
        assert report["deep_sleeps"] >= 1 and log(report)[0][0] == "10 03"
        assert report["unmodelled_registers"] == []
    else:
        assert report["status"] == "deadlock"
        entry = report["i2c"]["controller"]["log"][0]
        assert (entry["acked"], entry["status"]) == (False, "nack")


def test_a_byte_received_with_nack_set_is_not_acknowledged(firmware, cli, tmp_path):
    """The firmware takes the first byte, then sets CR2.NACK: the host's second byte is not
    acknowledged (NACK clears as it goes out), it stops: STOPF; the outcome says nack with one
    byte written."""
    host = host_file(tmp_path, '[[transaction]]\nat = 0\naddress = 0x42\nwrite = [1, 2, 3]\n')
    res = cli("run", target(firmware, "nack"), "--i2c", f"controller={host}", *LIMIT)
    assert res.returncode == 0, res.report["exit_code"]
    entry = res.report["i2c"]["controller"]["log"][0]
    assert (entry["write"], entry["acked"], entry["status"]) == ("01", True, "nack")
    isr = int(res.report["stdout"].split()[1], 16)
    assert isr & 1 << 5 and isr & 1 << 2 and not isr & 1 << 15  # STOPF, RXNE (byte 2), idle


def test_an_address_the_part_does_not_have_is_not_acknowledged(firmware, cli, tmp_path):
    """A host addressing 0x43 (the part is 0x42): no acknowledgement, no ADDR, the host
    stops; its next transaction to 0x42 is answered; a warning names the first."""
    host = host_file(tmp_path, '[[transaction]]\nat = "1ms"\naddress = 0x43\nwrite = [1]\n'
                     '[[transaction]]\nat = "2ms"\naddress = 0x42\nwrite = [0x10, 1]\n'
                     'read = 2\n')
    elf = target(firmware, "irq", ROUNDS=1)
    res = cli("run", elf, "--i2c", f"controller={host}", *LIMIT)
    assert res.returncode == 0, res.stderr
    entries = res.report["i2c"]["controller"]["log"]
    assert (entries[0]["acked"], entries[0]["status"]) == (False, "nack")
    assert entries[1]["status"] == "done"
    assert any("1 transaction(s) not acknowledged, the first (#1, 0x" in w
               for w in res.report["warnings"])


def test_cr2_nack_ignores_a_0_written_and_clears_with_pe(firmware, cli):
    """RM0377: writing 0 to CR2.NACK has no effect (hardware clears it: a NACK sent, an
    address matched, a stop, PE cleared)."""
    res = cli("run", target(firmware, "nackbit"), *LIMIT)
    assert res.report["exit_code"] == 0


def test_a_target_holding_the_clock_at_the_end_is_a_stall(firmware, cli, tmp_path):
    """ADDR never cleared: when the run ends the transaction is stalled, the warning says
    what the part held the clock for; a later transaction never ran."""
    host = host_file(tmp_path, command("1ms", 3))
    res = cli("run", target(firmware, "stall"), "--i2c", f"controller={host}", *LIMIT)
    assert res.returncode == 0, res.stderr
    controller = res.report["i2c"]["controller"]
    assert [t["status"] for t in controller["log"]] == ["stalled"]
    assert controller["begun"] == 1 and controller["done"] == 0
    warnings = " ".join(res.report["warnings"])
    assert "stalled" in warnings and "waiting for ICR.ADDRCF" in warnings
    assert "1 transaction(s) not run" in warnings


def test_a_byte_behind_an_unread_rxdr_holds_the_clock(firmware, cli, tmp_path):
    """The firmware reads RXDR ~1 ms late: the second byte waits behind RXNE (the clock held)
    until the first is read; both arrive, the transaction lasts over 1 ms."""
    host = host_file(tmp_path, '[[transaction]]\nat = 0\naddress = 0x42\nwrite = [7, 8]\n')
    res = cli("run", target(firmware, "slow"), "--i2c", f"controller={host}", *LIMIT)
    assert res.returncode == 0, res.report["exit_code"]
    assert res.report["stdout"] == "cmd 00000708\n"
    entry = res.report["i2c"]["controller"]["log"][0]
    assert (entry["write"], entry["status"]) == ("07 08", "done")
    assert entry["end_ms"] - entry["ms"] > 1.0


def test_clearing_pe_aborts_the_hosts_transaction(firmware, cli, tmp_path):
    """PE cleared after ADDRCF: the host's write ends (aborted, no byte taken), the bus idle
    (BUSY clear once its stop is out)."""
    host = host_file(tmp_path, '[[transaction]]\nat = 0\naddress = 0x42\nwrite = [7, 8]\n')
    res = cli("run", target(firmware, "abort"), "--i2c", f"controller={host}", *LIMIT)
    assert res.returncode == 0, res.report["exit_code"]
    entry = res.report["i2c"]["controller"]["log"][0]
    assert (entry["write"], entry["acked"], entry["status"]) == ("", True, "aborted")


def test_the_host_and_the_part_as_controller_share_the_bus(firmware, cli, tmp_path):
    """The host's transaction at 0 (to an address the part does not have) holds the bus: the
    part's own transfers as a controller (a sensor at 0x48) wait for its stop; a host's
    transaction due while the part's transfer is under way waits for that one's stop."""
    sensor = tmp_path / "dev.toml"
    sensor.write_text("[registers]\n0x10 = [1, 2, 3, 4, 5, 6, 7, 8]\n")
    host = host_file(tmp_path, '[[transaction]]\nat = 0\naddress = 0x42\nwrite = [1]\n'
                     '[[transaction]]\nat = "0.2ms"\naddress = 0x42\nread = 1\n')
    elf = irq_program(firmware, "i2c.c", "stm32l031", CASE_timed=None, READ_BYTES=8)
    res = cli("run", elf, "--i2c", f"controller={host}", "--i2c", f"0x48={sensor}", *LIMIT)
    assert res.returncode == 0, res.stderr
    hosts = res.report["i2c"]["controller"]["log"]
    parts = res.report["i2c"]["log"]
    # (the firmware exits at its transfer's stop: the host's second has just begun)
    assert [h["status"] for h in hosts] == ["nack", "under way"]
    assert parts[0]["ms"] >= hosts[0]["end_ms"]  # the part's START waited for the host
    assert hosts[1]["ms"] >= parts[-1]["ms"] > 0.2  # the host's waited for the part's stop


def test_a_host_waiting_for_the_parts_transfer_goes_when_pe_ends_it(firmware, cli, tmp_path):
    """The part reads from a sensor (i2c.c's pe case) and clears PE after its first byte
    (~0.19 ms at 100 kHz); the host's transaction due at 0.05 ms waited for the bus: it
    begins when PE ends the part's transfer, not back at 0.05 ms (review LOW)."""
    sensor = tmp_path / "dev.toml"
    sensor.write_text("[registers]\n0x10 = [1, 2, 3]\n")
    host = host_file(tmp_path, '[[transaction]]\nat = "0.05ms"\naddress = 0x42\nwrite = [1]\n')
    elf = irq_program(firmware, "i2c.c", "stm32l031", CASE_pe=None)
    res = cli("run", elf, "--i2c", f"controller={host}", "--i2c", f"0x48={sensor}", *LIMIT)
    assert res.returncode == 0, res.report["exit_code"]
    entry = res.report["i2c"]["controller"]["log"][0]
    assert entry["status"] == "nack" and entry["ms"] > 0.15, entry


@pytest.mark.parametrize("own2, mask, address, acked", [
    (0x40, 2, 0x43, True),  # OA2MSK 2: OA2[2:1] not compared
    (0x40, 2, 0x44, False),
    (0x11, 7, 0x6E, True),  # 7: every address
])
def test_the_second_own_address_with_its_mask(firmware, cli, tmp_path, own2, mask, address,
                                              acked):
    host = host_file(tmp_path, f'[[transaction]]\nat = 0\naddress = {address}\nwrite = [9]\n')
    elf = target(firmware, "oar2", OWN2=hex(own2), MASK=mask, WAIT=50_000)
    res = cli("run", elf, "--i2c", f"controller={host}", *LIMIT)
    entry = res.report["i2c"]["controller"]["log"][0]
    assert entry["acked"] == acked
    if acked:
        assert res.returncode == 0, res.stderr
        assert int(res.report["stdout"].split()[1], 16) == address  # ISR.ADDCODE
    else:
        assert res.report["exit_code"] == 1  # (ADDR never came)


@pytest.mark.parametrize("text, message", [
    ("", "no [[transaction]]"),
    ("scl_hz = 5\n[[transaction]]\nat = 0\naddress = 0x42\nread = 1\n", "scl_hz is a whole"),
    ("[[transaction]]\naddress = 0x42\nread = 1\n", "at is missing"),
    ("[[transaction]]\nat = 0\naddress = 0x42\n", "give write (bytes), read"),
    ("[[transaction]]\nat = 0\naddress = 0x90\nread = 1\n", "0x08 to 0x77"),
    ("[[transaction]]\nat = 0\naddress = 0x42\nwrite = [256]\n", "write is a list of 1 to"),
    ("[[transaction]]\nat = 0\naddress = 0x42\nread = 0\n", "read is a count of bytes"),
    ("[[transaction]]\nat = -1\naddress = 0x42\nread = 1\n", "at: not a duration"),
    ("[[transaction]]\nat = \"5 min\"\naddress = 0x42\nread = 1\n", "at: not a duration"),
    ("[[transaction]]\nat = 0\naddress = 0x42\nread = 1\nspeed = 3\n", "unknown key 'speed'"),
    ("rate = 1\n", "unknown key 'rate'"),
    ("transaction = 3\n", "no [[transaction]]"),
    ("[[transaction\n", "not a TOML description of an I2C controller"),
])
def test_a_bad_host_file_is_refused_in_one_line(firmware, cli, tmp_path, text, message):
    path = tmp_path / "host.toml"
    path.write_text(text)
    res = cli("run", target(firmware, "poll"), "--i2c", f"controller={path}", json=False)
    assert res.returncode == 2 and message in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


def test_one_host_at_most_and_the_spec_round_trip(firmware, cli, tmp_path):
    host = host_file(tmp_path, combined("1ms", 1))
    res = cli("run", target(firmware, "poll"), "--i2c", f"controller={host}", "--i2c",
              f"CONTROLLER={host}", json=False)
    assert res.returncode == 2 and "one I2C controller=FILE at most" in res.stderr
    assert str(parse_spec("Controller=x.toml")) == "controller=x.toml"


def test_check_and_the_api_take_the_host(firmware, cli, tmp_path):
    host = host_file(tmp_path, combined("1ms", 9) + combined("2ms", 10))
    elf = target(firmware, "irq")
    res, report = check_one(cli, tmp_path, elf, f'i2c = "controller={host.name}"')
    assert report is not None, res.stderr
    assert report["stdout"] == "cmd 00001009\ncmd 0000100a\n"
    report = sim.run(sim.load_elf(elf), i2c=[parse_spec(f"controller={host}")])
    assert report.stdout == "cmd 00001009\ncmd 0000100a\n"


def test_the_motion_hub_example_answers_its_host(cli, tmp_path):
    """examples/sensors/motion_hub.c with the BasicMotions library and host.toml (the
    commands docs/simulator.md shows): WHO_AM_I 0xEB, a classification commanded, STATUS
    busy while the core runs the eBNN, then done with the model's sample class, count 1."""
    from ebnn.artifact import load as load_artifact
    from ebnn.library import export_library

    root = Path(__file__).resolve().parents[1]
    art = load_artifact(root / "examples" / "basicmotions" / "basicmotions.ebnn")
    export_library(art, tmp_path / "motion", "basicmotions")
    elf = tmp_path / "hub.elf"
    built = cli("build", root / "examples" / "sensors" / "motion_hub.c",
                tmp_path / "motion" / "basicmotions.c", "-I", tmp_path / "motion",
                "-t", "stm32l031", "--irq-vectors", "-o", elf, json=False)
    assert built.returncode == 0, built.stderr
    res = cli("run", elf, "--run-for", "50ms", "--i2c",
              f"controller={root / 'examples' / 'sensors' / 'host.toml'}")
    assert res.returncode == 0, res.stderr
    sample_class = int(re.search(r"#define BASICMOTIONS_SAMPLE_CLASS (\d+)", (
        tmp_path / "motion" / "basicmotions.h").read_text()).group(1))
    assert res.report["stdout"] == f"window 1: class {sample_class}\n"
    assert log(res.report) == [("00", "eb", "done"), ("01 01", "", "done"),
                               ("02", "01 00 00", "done"),
                               ("02", f"02 {sample_class:02x} 01", "done")]


def test_a_reset_of_i2c1_does_not_rewind_the_host(firmware, cli, tmp_path):
    """(review) I2C1 reset by RCC_APB1RSTR between two host writes: the host, outside the part,
    goes on with its second transaction; it does not start its list again."""
    host = host_file(tmp_path, '[[transaction]]\nat = "1ms"\naddress = 0x42\nwrite = [0x10, 1]\n'
                     '[[transaction]]\nat = "3ms"\naddress = 0x42\nwrite = [0x10, 2]\n')
    res = cli("run", target(firmware, "rcc_reset"), "--i2c", f"controller={host}", *LIMIT)
    assert res.returncode == 0, (res.report["exit_code"], res.report["stdout"])
    assert res.report["stdout"] == "cmd 00001001\ncmd 00001002\n"
    controller = res.report["i2c"]["controller"]
    assert (controller["begun"], controller["done"]) == (2, 2)
    assert [t["write"] for t in controller["log"]] == ["10 01", "10 02"]
