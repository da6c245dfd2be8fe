#!/usr/bin/env python3
"""mkseeds.py - write the seed corpora of the fuzz targets (fuzz/corpus/).

    python3 fuzz/mkseeds.py      (from the top of the tree)

Each seed is a real case in the input format its harness reads (the
header comment of fuzz/fuzz_TARGET.c): frames a host's stack sends, with
and without tags and virtio-net headers; requests tapswitchctl sends;
answers the daemon gives.  Rerunning it rewrites the same files.
"""
import os
import struct

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def csum(data, start=0):
    s = start
    if len(data) % 2:
        data += b"\0"
    for i in range(0, len(data), 2):
        s += data[i] << 8 | data[i + 1]
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return s


MAC = {c: bytes([2, 0, 0, 0, 0, 0xA + i]) for i, c in enumerate("abcde")}
BCAST = b"\xff" * 6


def tag(tpid, vid, pcp=0):
    return struct.pack(">HH", tpid, pcp << 13 | vid)


def ipv4_l4(proto, l4, payload, src=b"\xc6\x12\x00\x01", dst=b"\xc6\x12\x00\x02"):
    tot = 20 + len(l4) + len(payload)
    ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, tot, 0x1234, 0x4000,
                               64, proto, 0, src, dst))
    struct.pack_into(">H", ip, 10, 0xFFFF - csum(bytes(ip)))
    pseudo = src + dst + struct.pack(">BBH", 0, proto, len(l4) + len(payload))
    return bytes(ip), pseudo


def tcp_frame(dst, src, tags=b"", payload_len=300, v6=False, flags=0x18):
    payload = bytes((i * 7) & 0xFF for i in range(payload_len))
    tcp = bytearray(struct.pack(">HHIIBBHHH", 40000, 5201, 0xFFFFF000, 0x1000,
                                8 << 4, flags, 502, 0, 0))
    tcp += b"\x01\x01\x08\x0a" + b"\0" * 8          # NOP NOP timestamps
    if v6:
        s6, d6 = bytes(range(0x20, 0x30)), bytes(range(0x40, 0x50))
        ip = struct.pack(">IHBB16s16s", 0x60000000, len(tcp) + payload_len,
                         6, 64, s6, d6)
        pseudo = s6 + d6 + struct.pack(">IxxxB", len(tcp) + payload_len, 6)
        etype = 0x86DD
    else:
        ip, pseudo = ipv4_l4(6, tcp, payload)
        etype = 0x0800
    # What the stack leaves in the field with a partial checksum.
    struct.pack_into(">H", tcp, 16, csum(pseudo))
    l2 = dst + src + tags + struct.pack(">H", etype)
    return l2 + ip + bytes(tcp) + payload, len(l2), len(l2) + len(ip), len(tcp)


def udp_frame(dst, src, tags=b"", payload_len=200):
    payload = bytes((i * 3) & 0xFF for i in range(payload_len))
    udp = bytearray(struct.pack(">HHHH", 40000, 53, 8 + payload_len, 0))
    ip, pseudo = ipv4_l4(17, udp, payload)
    struct.pack_into(">H", udp, 6, csum(pseudo))
    l2 = dst + src + tags + b"\x08\x00"
    return l2 + ip + bytes(udp) + payload, len(l2) + len(ip)


def arp(src, dst=BCAST, tags=b""):
    body = struct.pack(">HHBBH", 1, 0x0800, 6, 4, 1) + src + b"\xc6\x12\0\1" \
        + b"\0" * 6 + b"\xc6\x12\0\2"
    return dst + src + tags + b"\x08\x06" + body + b"\0" * 18


def vnet(flags=0, gso_type=0, hdr_len=0, gso_size=0, start=0, off=0):
    """The harnesses' order: flags, gso_type, then four big-endian u16."""
    return struct.pack(">BBHHHH", flags, gso_type, hdr_len, gso_size, start,
                       off)


NEEDS_CSUM, GSO_TCPV4, GSO_UDP_L4, GSO_TCPV6, GSO_ECN = 1, 1, 5, 4, 0x80


def write(target, name, data):
    d = os.path.join(TOP, "fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- offload: header, stop byte, frame ----

f, l2, l4, th = tcp_frame(MAC["b"], MAC["a"], payload_len=1000)
write("offload", "tso4", vnet(NEEDS_CSUM, GSO_TCPV4, l4 + th, 400, l4, 16)
      + b"\0" + f)
write("offload", "tso4_ecn_fin",
      vnet(NEEDS_CSUM, GSO_TCPV4 | GSO_ECN, l4 + th, 300, l4, 16) + b"\0"
      + tcp_frame(MAC["b"], MAC["a"], payload_len=700, flags=0x99)[0])
f, l2, l4, th = tcp_frame(MAC["b"], MAC["a"], tag(0x8100, 10), 900, v6=True)
write("offload", "tso6_tagged",
      vnet(NEEDS_CSUM, GSO_TCPV6, l4 + th, 256, l4, 16) + b"\2" + f)
f, l4 = udp_frame(MAC["b"], MAC["a"], payload_len=1200)
write("offload", "uso4", vnet(NEEDS_CSUM, GSO_UDP_L4, l4 + 8, 500, l4, 6)
      + b"\0" + f)
f, l4 = udp_frame(MAC["b"], MAC["a"], tag(0x88A8, 20) + tag(0x8100, 30), 100)
write("offload", "csum_udp_qinq", vnet(NEEDS_CSUM, 0, 0, 0, l4, 6) + b"\0"
      + f)
write("offload", "plain_arp", vnet() + b"\0" + arp(MAC["a"]))

# ---- pipeline: switch, ports, then ops ----


def port(flags, caps=0, edits=()):
    return bytes([flags, caps, len(edits)]) + bytes(edits)


def burst(in_port, frames):
    out = bytes([0, len(frames) - 1, in_port])
    for fr, vh in frames:
        how = 0x40 | (0x80 if vh else 0)
        out += bytes([how]) + struct.pack(">H", len(fr)) + fr + (vh or b"")
    return out


UP_ALL = 0x3F            # learning, floods, up, reorder_hdr
OFFLOAD = 0x40 | 0x80    # offload on, and the port has caps
# vid_table: 0:1 1:2 2:3 3:10 4:100 5:4094; edit bits: 0x10 pvid,
# 0x20 untagged, 0x40 PCP maps, 0x80 delete
V10_TAGGED, V10_PVID_UNTAGGED, DEL_V1 = 0x03, 0x33, 0x80

write("pipeline", "learn_flood_forward",
      bytes([0]) + b"\0\0" + bytes([1]) +
      port(UP_ALL) * 3 +
      burst(0, [(arp(MAC["a"]), None)]) +
      burst(1, [(arp(MAC["b"], MAC["a"]), None)]) +
      burst(0, [(udp_frame(MAC["b"], MAC["a"])[0], None),
                (udp_frame(MAC["c"], MAC["a"])[0], None)]))
write("pipeline", "vlan_trunk_access",
      bytes([1]) + b"\0\0" + bytes([2]) +
      port(UP_ALL, 0, [V10_TAGGED]) +
      port(UP_ALL, 0, [DEL_V1, V10_PVID_UNTAGGED]) +
      port(UP_ALL, 0, [V10_TAGGED | 0x40]) +
      port(UP_ALL & ~0x20, 0, [V10_TAGGED]) +
      burst(0, [(arp(MAC["a"], tags=tag(0x8100, 10, 5)), None),
                (arp(MAC["a"], tags=tag(0x8100, 0, 3)), None)]) +
      burst(1, [(arp(MAC["b"], MAC["a"]), None)]))
f, l2, l4, th = tcp_frame(MAC["b"], MAC["a"], tag(0x8100, 10), 1200)
write("pipeline", "tso_to_ports_without_offload",
      bytes([1 | 4]) + b"\0\0" + bytes([1]) +
      port(UP_ALL | OFFLOAD, 0x1F, [V10_TAGGED]) +
      port(UP_ALL | OFFLOAD, 0x1F, [DEL_V1, V10_PVID_UNTAGGED]) +
      port(UP_ALL, 0, [V10_TAGGED]) +
      burst(0, [(f, vnet(NEEDS_CSUM, GSO_TCPV4, l4 + th, 500, l4, 16))]))
f, l4 = udp_frame(MAC["b"], MAC["a"], payload_len=120)
write("pipeline", "csum_tag_pushed",
      bytes([1]) + b"\0\0" + bytes([1]) +
      port(UP_ALL, 0, [DEL_V1, V10_PVID_UNTAGGED]) +
      port(UP_ALL | OFFLOAD, 0x01, [V10_TAGGED]) +
      port(UP_ALL, 0, [V10_TAGGED]) +
      burst(0, [(f, vnet(NEEDS_CSUM, 0, 0, 0, l4, 6))]))
write("pipeline", "qinq_8021ad",
      bytes([1 | 2 | 8]) + b"\0\0" + bytes([0]) +
      port(UP_ALL, 0, [V10_TAGGED]) + port(UP_ALL, 0, [V10_TAGGED]) +
      burst(0, [(arp(MAC["a"], tags=tag(0x88A8, 10) + tag(0x8100, 20)),
                 None),
                (arp(MAC["a"], tags=tag(0x8100, 20)), None)]))
LL = bytes([1, 0x80, 0xC2, 0, 0, 0])
write("pipeline", "link_local",
      bytes([8]) + struct.pack(">H", 0x4008) + bytes([1]) +
      port(UP_ALL) * 3 +
      burst(0, [(arp(MAC["a"], LL), None),
                (arp(MAC["a"], LL[:5] + b"\x01"), None),
                (arp(MAC["a"], LL[:5] + b"\x0e"), None),
                (arp(MAC["a"], LL[:5] + b"\x03"), None)]))
f, l4 = udp_frame(MAC["c"], MAC["a"], payload_len=300)
write("pipeline", "observe_csum_and_errors",
      bytes([8 | 4]) + b"\0\0" + bytes([1]) +
      port(UP_ALL | OFFLOAD, 0x01) + port(UP_ALL) + port(UP_ALL & ~0x10) +
      burst(0, [(f, vnet(NEEDS_CSUM, 0, 0, 0, l4, 6)),
                (f[:10], None), (MAC["b"] + BCAST + f[12:60], None)]) +
      bytes([4, 1, 0x02, 0x00]) +            # port 1: flood off
      bytes([0x06 | 1 << 3, 5]) +            # port 1 fails its sends
      burst(0, [(arp(MAC["a"]), None)]))

# ---- ctl: requests in the wire format ----


def req(*words):
    return "".join(w + "\n" for w in words).encode() + b"\n"


write("ctl", "ports", req("port", "add", "sw0") + req("port", "add", "sw1")
      + req("port", "show") + req("port", "del", "sw0")
      + req("link", "show", "dev", "sw1"))
write("ctl", "vlans", req("port", "add", "sw0") + req("port", "add", "sw1")
      + req("set", "vlan_filtering", "1")
      + req("vlan", "add", "dev", "sw0", "vid", "10", "pvid", "untagged")
      + req("vlan", "add", "dev", "sw1", "vid", "10-20")
      + req("vlan", "del", "dev", "sw0", "vid", "1")
      + req("vlan", "show") + req("vlan", "show", "sw1"))
write("ctl", "fdb", req("port", "add", "sw0") + req("port", "add", "sw1")
      + req("fdb", "add", "02:00:00:00:00:01", "dev", "sw0")
      + req("fdb", "replace", "02:00:00:00:00:01", "dev", "sw1", "dynamic",
            "sticky")
      + req("fdb", "add", "02:00:00:00:00:02", "dev", "sw0", "vlan", "1")
      + req("fdb", "show", "dev", "sw1")
      + req("fdb", "del", "02:00:00:00:00:01", "dev", "sw1")
      + req("fdb", "flush", "dev", "sw0", "static"))
write("ctl", "settings", req("set", "ageing_time", "30", "max_learned", "10",
                             "group_fwd_mask", "0x4000")
      + req("set", "vlan_protocol", "802.1ad", "default_pvid", "0")
      + req("set", "group_fwd_mask", "1") + req("show")
      + req("set"))
write("ctl", "port_set", req("port", "add", "sw0")
      + req("port", "set", "sw0", "learning", "off", "flood", "off",
            "ingress_qos_map", "1:2", "3:4", "egress_qos_map", "7:0")
      + req("port", "set", "dev", "sw0", "offload", "on")
      + req("port", "set", "sw0", "mcast_flood", "0", "reorder_hdr", "off"))
ARP = arp(MAC["a"]).hex()
write("ctl", "inject_explain", req("port", "add", "sw0")
      + req("port", "add", "sw1")
      + req("inject", "sw0", ARP)
      + req("inject", "sw1", arp(MAC["b"], MAC["a"]).hex())
      + req("fdb", "show")
      + req("explain", "dev", "sw0", "frame",
            udp_frame(MAC["b"], MAC["a"])[0].hex())
      + req("fdb", "add", "02:00:00:00:00:0a", "dev", "sw1")
      + req("fdb", "flush", "dynamic") + req("show"))
write("ctl", "errors", req("nosuch") + req("port", "frob")
      + req("port", "add") + req("fdb", "add", "zz", "dev", "x")
      + req("vlan", "add", "dev", "x", "vid", "5000")
      + req("set", "ageing_time", "01000000") + b"\n"
      + req("capture", "show") + req("capture", "stop", "id", "3")
      + req("trace", "count", "1")
      + req("capture", "start", "file", "/tmp/x.pcap"))

# ---- wire: mode byte, then the bytes ----

ANSWER = (b"obj port\ns ifname=tap0\ns kind=tap\nb learning=1\n"
          b"l ingress_qos_map=1:2,3:4\nn stats.rx_packets=12\n"
          b"obj port\ns ifname=tap1\nl flags=\nstatus 0\n\n")
write("wire", "answer_ports", b"\0" + ANSWER)
write("wire", "answer_error", b"\0" + b"error Error: argument \"x\" is wrong:"
      b" no such port\nstatus -22\n\n")
write("wire", "stream_trace", b"\1" + b"stream\nobj trace\ns ifname=tap0\n"
      b"n len=60\nl egress=tap1,tap2\n.\nobj trace\ns verdict=drop\n.\n"
      b"error Error: port tap0 removed\nstatus -19\n\n")
write("wire", "request", b"\2\x3f" + req("fdb", "add", "02:00:00:00:00:01",
                                         "dev", "tap0", "vlan", "10"))
write("wire", "abs_paths", b"\3" + b"/home/user\ncapture\nstart\ndev\ntap0\n"
      b"file\nout.pcap\n")
write("wire", "printed", b"\4\3\5\0\1" + bytes(range(1, 120)))
