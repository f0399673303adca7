"""Write configs/scenarios/captures/mixed-traffic.pcapng, the sample capture for replay.

A small, made-up but realistic mix between two hosts: UDP request/response pairs
of several sizes, a TCP handshake and a few data segments, ARP, an ICMP echo, an
IPv6 UDP datagram and one retransmitted (byte-identical) TCP segment, with
irregular gaps from under a microsecond to a few hundred. Every frame is built
with dpkt; timestamps are exact nanoseconds (if_tsresol 9). Deterministic: rerun it
and the file is the same.

    python tools/make_sample_capture.py
"""

from __future__ import annotations

import ipaddress
import random
from pathlib import Path

import dpkt

from mintactors.captures import pcapng_bytes

OUT = Path(__file__).resolve().parent.parent / "configs/scenarios/captures/mixed-traffic.pcapng"
MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
IP_A, IP_B = ipaddress.IPv4Address("10.0.0.1").packed, ipaddress.IPv4Address("10.0.0.2").packed


def ether(src: bytes, dst: bytes, kind: int, payload: dpkt.Packet) -> bytes:
    return bytes(dpkt.ethernet.Ethernet(src=src, dst=dst, type=kind, data=payload))


def ipv4(src: bytes, dst: bytes, proto: int, payload: dpkt.Packet, ident: int) -> dpkt.ip.IP:
    packet = dpkt.ip.IP(src=src, dst=dst, p=proto, ttl=64, id=ident, data=payload)
    packet.len = 20 + len(bytes(payload))
    return packet


def udp(sport: int, dport: int, body: bytes) -> dpkt.udp.UDP:
    datagram = dpkt.udp.UDP(sport=sport, dport=dport, data=body)
    datagram.ulen = 8 + len(body)
    return datagram


def frames() -> list[bytes]:
    out: list[bytes] = []
    ident = 1
    arp = dpkt.arp.ARP(sha=MAC_A, spa=IP_A, tha=b"\0" * 6, tpa=IP_B, op=dpkt.arp.ARP_OP_REQUEST)
    out.append(ether(MAC_A, b"\xff" * 6, dpkt.ethernet.ETH_TYPE_ARP, arp))
    reply = dpkt.arp.ARP(sha=MAC_B, spa=IP_B, tha=MAC_A, tpa=IP_A, op=dpkt.arp.ARP_OP_REPLY)
    out.append(ether(MAC_B, MAC_A, dpkt.ethernet.ETH_TYPE_ARP, reply))
    for i, size in enumerate((32, 200, 512, 1200, 1472, 64, 900, 1472)):
        body = bytes((i * 31 + k) & 0xFF for k in range(size))
        request = ipv4(IP_A, IP_B, dpkt.ip.IP_PROTO_UDP, udp(40000 + i, 7, body), ident)
        out.append(ether(MAC_A, MAC_B, dpkt.ethernet.ETH_TYPE_IP, request))
        answer = ipv4(IP_B, IP_A, dpkt.ip.IP_PROTO_UDP, udp(7, 40000 + i, body[::-1]), ident + 1)
        out.append(ether(MAC_B, MAC_A, dpkt.ethernet.ETH_TYPE_IP, answer))
        ident += 2
    seq_a, seq_b = 1000, 5000
    for flags, src, dst, mac_s, mac_d, seq, ack, data in (
        (dpkt.tcp.TH_SYN, IP_A, IP_B, MAC_A, MAC_B, seq_a, 0, b""),
        (dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK, IP_B, IP_A, MAC_B, MAC_A, seq_b, seq_a + 1, b""),
        (dpkt.tcp.TH_ACK, IP_A, IP_B, MAC_A, MAC_B, seq_a + 1, seq_b + 1, b""),
        (
            dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH,
            IP_A,
            IP_B,
            MAC_A,
            MAC_B,
            seq_a + 1,
            seq_b + 1,
            b"x" * 1448,
        ),
        (
            dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH,
            IP_A,
            IP_B,
            MAC_A,
            MAC_B,
            seq_a + 1449,
            seq_b + 1,
            b"y" * 1448,
        ),
        (dpkt.tcp.TH_ACK, IP_B, IP_A, MAC_B, MAC_A, seq_b + 1, seq_a + 2897, b""),
    ):
        segment = dpkt.tcp.TCP(
            sport=50000 if src == IP_A else 80,
            dport=80 if src == IP_A else 50000,
            seq=seq,
            ack=ack,
            flags=flags,
            win=65535,
            data=data,
        )
        out.append(
            ether(
                mac_s,
                mac_d,
                dpkt.ethernet.ETH_TYPE_IP,
                ipv4(src, dst, dpkt.ip.IP_PROTO_TCP, segment, ident),
            )
        )
        ident += 1
    out.append(out[-2])  # a retransmission: the same bytes again
    echo = dpkt.icmp.ICMP(type=8, data=dpkt.icmp.ICMP.Echo(id=7, seq=1, data=b"ping" * 14))
    out.append(
        ether(
            MAC_A,
            MAC_B,
            dpkt.ethernet.ETH_TYPE_IP,
            ipv4(IP_A, IP_B, dpkt.ip.IP_PROTO_ICMP, echo, ident),
        )
    )
    six = dpkt.ip6.IP6(
        src=b"\xfe\x80" + b"\0" * 13 + b"\x01",
        dst=b"\xfe\x80" + b"\0" * 13 + b"\x02",
        nxt=dpkt.ip.IP_PROTO_UDP,
        hlim=64,
        data=udp(5353, 5353, b"\x00" * 40),
    )
    six.plen = len(bytes(six.data))
    out.append(ether(MAC_A, MAC_B, dpkt.ethernet.ETH_TYPE_IP6, six))
    return out


def main() -> None:
    rng = random.Random(2014)  # a fixed seed: the file is the same on every run
    packets = frames()
    stamps = [1_400_000_000_000_000_000]
    for _ in packets[1:]:
        stamps.append(stamps[-1] + rng.choice((800, 2_500, 12_000, 40_000, 150_000, 400_000)))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(pcapng_bytes(packets, stamps))
    print(f"wrote {OUT} ({len(packets)} frames)")


if __name__ == "__main__":
    main()
