#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge one test VM run.

Reads the guest's test stream (TAP from the test programs and /init, on the
VM's second serial port) and the kernel console log (first serial port), and
prints one renumbered TAP stream:

  ok <n> <label>.<program>.<test>        for every test result in the stream
  ok <n> <label>.vm.completed            /init reached its end marker
  ok <n> <label>.vm.programs_exited_0    every test program exited 0
  ok <n> <label>.vm.no_kernel_splat      no BUG/WARNING/KASAN/lockdep/UBSAN/
                                         oops/panic/hung task in the console
  ok <n> <label>.vm.kmemleak_clean       (debug kernel) no leak reported

and, for an app test's "# IOASID-DPDK-TX <nic> <variant> <udp port> <count>"
lines (apps/dpdk), the frames QEMU dumped from that NIC (LOG.<nic>.pcap):

  ok <n> <label>.<program>.<nic>_<variant>_captured_eq_tx
                                         the pcap holds exactly <count>
                                         testpmd frames of that UDP port
  ok <n> <label>.<program>.<nic>_only_testpmd_frames
                                         and nothing else (a descriptor the
                                         IOMMU refused still leaves, zeroed)

A run fails when any line is "not ok". The counts are written to --counts as
"passed failed skipped".
"""
import argparse
import re
import struct
import sys

# Lines that make a run fail however the tests went. Lockdep reports start
# with "WARNING: possible ..." or "INFO: ..." lines; KASAN and UBSAN with
# their "BUG: KASAN:" / "UBSAN:" headers.
SPLAT_PATTERNS = [
    r"\bBUG: ",
    r"\bWARNING: ",
    r"\bKASAN: ",
    r"\bUBSAN: ",
    r"INFO: possible (circular|recursive) locking",
    r"INFO: trying to register non-static key",
    r"INFO: lockdep is turned off",
    r"inconsistent lock state",
    r"\bOops: ",
    r"general protection fault",
    r"Kernel panic",
    r"INFO: task \S+ blocked for more than",
    r"\bkernel BUG at\b",
    r"Unable to handle kernel",
    r"list_(add|del) corruption",
]
SPLAT_RE = re.compile("|".join(SPLAT_PATTERNS))
TAP_RE = re.compile(r"^(not )?ok \d+ (\S+)(.*)$")


def early_splat(path):
    """A splat before the kernel started /init: no project code had run."""
    try:
        console = open(path, errors="replace").read().splitlines()
    except OSError:
        return False
    for line in console:
        if "Run /init as init process" in line:
            return False
        if SPLAT_RE.search(line):
            return True
    return False


def pcap_frames(path):
    """The frames of a pcap file (either byte order), or [] without one."""
    try:
        data = open(path, "rb").read()
    except OSError:
        return []
    if len(data) < 24:
        return []
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">"}.get(data[:4])
    if not order:
        return []
    frames, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(order + "I", data[off + 8:off + 12])[0]
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


# testpmd's txonly flow (apps/dpdk passes --tx-ip with these).
DPDK_TX_SRC = bytes([198, 18, 0, 1])
DPDK_TX_DST = bytes([198, 18, 0, 2])


def testpmd_udp_port(frame):
    """The UDP source port of a testpmd txonly frame, or None for any other."""
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0xF) * 4
    if ip[0] >> 4 != 4 or ihl < 20 or ip[9] != 17 or len(ip) < ihl + 8:
        return None
    if ip[12:16] != DPDK_TX_SRC or ip[16:20] != DPDK_TX_DST:
        return None
    return struct.unpack(">H", ip[ihl:ihl + 2])[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True)
    ap.add_argument("--tap", required=True, help="the guest's test stream")
    ap.add_argument("--console", required=True, help="the kernel console log")
    ap.add_argument("--start", type=int, default=0, help="number of the last TAP line printed before")
    ap.add_argument("--counts", help="file to write 'passed failed skipped' to")
    ap.add_argument("--pcap", help="QEMU's dump of the guest's frames (default: TAP path .pcap)")
    ap.add_argument("--kmemleak", action="store_true", help="the kernel has kmemleak: require its report")
    ap.add_argument("--early-splat", action="store_true",
                    help="only say (exit 0) whether the kernel splatted before it ran /init")
    args = ap.parse_args()

    if args.early_splat:
        return 0 if early_splat(args.console) else 1

    n = args.start
    counts = {"pass": 0, "fail": 0, "skip": 0}

    def emit(ok, name, comment=""):
        nonlocal n
        n += 1
        skip = "# SKIP" in comment
        counts["skip" if ok and skip else "pass" if ok else "fail"] += 1
        print(f"{'' if ok else 'not '}ok {n} {args.label}.{name}{comment}")

    try:
        stream = open(args.tap, errors="replace").read().splitlines()
    except OSError:
        stream = []
    try:
        console = open(args.console, errors="replace").read().splitlines()
    except OSError:
        console = []

    program = "init"
    dpdk_tx = []
    sent = []
    unreachable = []
    bad_exit = []
    completed = False
    in_leak = False
    leaks = []
    for line in stream:
        line = line.rstrip("\r")
        if line.startswith("IOASID-PROGRAM "):
            program = line.split()[1]
            continue
        if line.startswith("IOASID-PROGRAM-EXIT "):
            _, prog, code = line.split()[:3]
            if code != "0":
                bad_exit.append(f"{prog} exited {code}")
            program = "init"
            continue
        if line.startswith("IOASID-VM-END"):
            completed = True
            continue
        if line.startswith("IOASID-KMEMLEAK-BEGIN"):
            in_leak = True
            continue
        if line.startswith("IOASID-KMEMLEAK-END"):
            in_leak = False
            continue
        if in_leak:
            leaks.append(line)
            continue
        if line.startswith("# IOASID-VDPA-FRAME "):
            sent.append(line.split()[2])
            continue
        if line.startswith("# IOASID-DPDK-TX "):
            f = line.split()
            if len(f) == 6 and f[4].isdigit() and f[5].isdigit():
                dpdk_tx.append((program, f[2], f[3], int(f[4]), int(f[5])))
            else:
                emit(False, f"{program}.dpdk_tx_line", f" # malformed: {line[:100]}")
            continue
        if line.startswith("# IOASID-VDPA-UNREACHABLE "):
            unreachable.append(line.split()[2])
            continue
        m = TAP_RE.match(line)
        if not m:
            continue
        name = m.group(2)
        if program == "init" and name.startswith("init."):
            name = name[len("init."):]
        emit(m.group(1) is None, f"{program}.{name}", m.group(3))

    # Frames the vdpa test sent through vp_vdpa must have left the VM
    # byte-exact (an unmapped buffer still yields a frame, of zeroes).
    if sent or unreachable:
        pcap = args.pcap or re.sub(r"\.tap$", "", args.tap) + ".pcap"
        captured = {f.hex() for f in pcap_frames(pcap)}
        for i, hexframe in enumerate(sent):
            ok = hexframe in captured
            emit(ok, f"vdpa.frame{i}_captured_byte_exact",
                 "" if ok else f" # not among the {len(captured)} frames in {pcap}")
        # Frames queued after their page was unmapped must never leave.
        for i, hexframe in enumerate(unreachable):
            ok = hexframe not in captured
            emit(ok, f"vdpa.unmapped{i}_not_sent", "" if ok else f" # found in {pcap}")
    # Every frame testpmd counted as sent left the VM, through that NIC,
    # once: captured == TX count per NIC and variant (told apart by port).
    base = re.sub(r"\.tap$", "", args.tap)
    by_nic = {}
    for prog, nic, variant, port, count in dpdk_tx:
        by_nic.setdefault((prog, nic), []).append((variant, port, count))
    for (prog, nic), runs in by_nic.items():
        pcap = f"{base}.{nic}.pcap"
        ports = {}
        stray = 0
        for frame in pcap_frames(pcap):
            port = testpmd_udp_port(frame)
            if port is None:
                stray += 1
            else:
                ports[port] = ports.get(port, 0) + 1
        for variant, port, count in runs:
            got = ports.pop(port, 0)
            emit(got == count, f"{prog}.{nic}_{variant}_captured_eq_tx",
                 f" # {got} frames captured, testpmd sent {count}"
                 + ("" if got == count else f" ({pcap})"))
        stray += sum(ports.values())
        emit(stray == 0, f"{prog}.{nic}_only_testpmd_frames",
             "" if stray == 0 else f" # {stray} other frames in {pcap}")
    emit(completed, "vm.completed", "" if completed else " # the VM did not reach /init's end marker")
    emit(not bad_exit, "vm.programs_exited_0", "" if not bad_exit else " # " + "; ".join(bad_exit))
    splats = [l for l in console if SPLAT_RE.search(l)]
    emit(not splats, "vm.no_kernel_splat", "" if not splats else " # " + splats[0].strip()[:200])
    if args.kmemleak:
        leak_objs = [l for l in leaks if l.startswith("unreferenced object")]
        ok = not leak_objs and "IOASID-KMEMLEAK-END" in stream
        emit(ok, "vm.kmemleak_clean", "" if ok else f" # {len(leak_objs)} unreferenced objects or no report")
        if leak_objs:
            sys.stderr.write("\n".join(leaks[:80]) + "\n")
    for l in splats[:5]:
        sys.stderr.write(f"{args.label}: splat: {l.strip()}\n")

    if args.counts:
        with open(args.counts, "w") as f:
            f.write(f"{counts['pass']} {counts['fail']} {counts['skip']}\n")
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
