#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Topologies and helpers for datapath tests, sourced after lib.sh.
#
#   topo_hosts: two hosts with a forwarding namespace between them, so that
#   a capture in "m" sees only what crosses the wire (QEMU-NOTES.md: with
#   native tunnel mode a capture on the receiving device also shows the
#   decapsulated packets).
#
#     +---------+            +------------------+            +---------+
#     |   a     | a0      m0 |        m         | m1      b0 |    b    |
#     | 10.0.1.1|------------|10.0.1.254        |------------|10.0.2.1 |
#     |fd01::1  |            |fd01::fe  fd02::fe|            |fd02::1  |
#     +---------+            |        10.0.2.254|            +---------+
#                            +------------------+
#
#   topo_gateways: hosts behind two gateways, tunnel between the gateways.
#
#     ha --- ga ============ m ============ gb --- hb
#   10.1.0.2  10.1.0.1/10.0.1.1   10.0.2.1/10.2.0.1  10.2.0.2
#   fd11::2   fd11::1/fd01::1     fd02::1/fd12::1    fd12::2

A4=10.0.1.1; B4=10.0.2.1; A6=fd01::1; B6=fd02::1

# Under TCG each ip command costs about 0.15 s, most of it the start of
# ip itself (QEMU-NOTES.md): the topologies are made with one ip -batch for
# the namespaces, one for the veth pairs and one per namespace for its
# links, addresses and routes (-force: a failing line does not stop the
# rest, as separate commands did not).

# _ns_add NS...: the namespaces (one ip -batch)
_ns_add() { printf 'netns add %s\n' "$@" | ip -force -batch -; }

# _sysctl_ns NS [SYSCTL=VALUE...]: the settings every test namespace gets
# (before its devices appear, which take accept_dad from "default"), and
# more
_sysctl_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 net.ipv4.ping_group_range="0 2147483647" \
		"$@" >/dev/null
}

_FWD="net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1"

# m, the router both topologies share: 10.0.1.254 / fd01::fe on m0,
# 10.0.2.254 / fd02::fe on m1
_topo_m() {
	ip -n m -force -batch - <<-EOF
	link set dev lo up
	link set dev m0 up
	link set dev m1 up
	addr add 10.0.1.254/24 dev m0
	addr add fd01::fe/64 dev m0 nodad
	addr add 10.0.2.254/24 dev m1
	addr add fd02::fe/64 dev m1 nodad
	EOF
}

# (IPv6 default routes as ::/0: a batch line takes no -6)
topo_hosts() {
	_ns_add a m b
	_sysctl_ns a
	# shellcheck disable=SC2086 # two words
	_sysctl_ns m $_FWD
	_sysctl_ns b
	ip -force -batch - <<-EOF
	link add a0 netns a type veth peer name m0 netns m
	link add m1 netns m type veth peer name b0 netns b
	EOF
	ip -n a -force -batch - <<-EOF
	link set dev lo up
	link set dev a0 up
	addr add $A4/24 dev a0
	addr add $A6/64 dev a0 nodad
	route add default via 10.0.1.254
	route add ::/0 via fd01::fe
	EOF
	_topo_m
	ip -n b -force -batch - <<-EOF
	link set dev lo up
	link set dev b0 up
	addr add $B4/24 dev b0
	addr add $B6/64 dev b0 nodad
	route add default via 10.0.2.254
	route add ::/0 via fd02::fe
	EOF
}

topo_gateways() {
	local ns
	_ns_add ha ga m gb hb
	for ns in ha hb; do _sysctl_ns "$ns"; done
	# shellcheck disable=SC2086 # two words
	for ns in ga m gb; do _sysctl_ns "$ns" $_FWD; done
	ip -force -batch - <<-EOF
	link add ha0 netns ha type veth peer name ga1 netns ga
	link add ga0 netns ga type veth peer name m0 netns m
	link add m1 netns m type veth peer name gb0 netns gb
	link add gb1 netns gb type veth peer name hb0 netns hb
	EOF
	ip -n ha -force -batch - <<-EOF
	link set dev lo up
	link set dev ha0 up
	addr add 10.1.0.2/24 dev ha0
	addr add fd11::2/64 dev ha0 nodad
	route add default via 10.1.0.1
	route add ::/0 via fd11::1
	EOF
	# The gateways know only the WAN: the remote LAN must go through the
	# tunnel or nowhere (m has no route to the LANs either).
	ip -n ga -force -batch - <<-EOF
	link set dev lo up
	link set dev ga1 up
	link set dev ga0 up
	addr add 10.1.0.1/24 dev ga1
	addr add fd11::1/64 dev ga1 nodad
	addr add $A4/24 dev ga0
	addr add $A6/64 dev ga0 nodad
	route add 10.0.2.0/24 via 10.0.1.254
	route add 10.2.0.0/24 via 10.0.1.254
	route add fd02::/64 via fd01::fe
	route add fd12::/64 via fd01::fe
	EOF
	_topo_m
	ip -n gb -force -batch - <<-EOF
	link set dev lo up
	link set dev gb0 up
	link set dev gb1 up
	addr add $B4/24 dev gb0
	addr add $B6/64 dev gb0 nodad
	addr add 10.2.0.1/24 dev gb1
	addr add fd12::1/64 dev gb1 nodad
	route add 10.0.1.0/24 via 10.0.2.254
	route add 10.1.0.0/24 via 10.0.2.254
	route add fd01::/64 via fd02::fe
	route add fd11::/64 via fd02::fe
	EOF
	ip -n hb -force -batch - <<-EOF
	link set dev lo up
	link set dev hb0 up
	addr add 10.2.0.2/24 dev hb0
	addr add fd12::2/64 dev hb0 nodad
	route add default via 10.2.0.1
	route add ::/0 via fd12::1
	EOF
}

# --- native XFRM -------------------------------------------------------------

# Modules the native peer needs (no udev in the guest). One modprobe for
# all (-a goes on past a module this kernel lacks or has built in).
native_modules() {
	modprobe -qa xfrm_user esp4 esp6 ah4 ah6 xfrm4_tunnel xfrm6_tunnel \
		tunnel4 tunnel6 authenc authencesn gcm ccm chacha20poly1305 \
		seqiv echainiv cbc ctr sha1_generic sha256_generic sha512_generic \
		xcbc cmac 2>/dev/null
	return 0
}

# native_pair NS SRC DST SPI_OUT SPI_IN MODE REQID ALGARGS...
#   Installs the outbound (SRC->DST, SPI_OUT) and inbound (DST->SRC, SPI_IN)
#   SAs of a native XFRM endpoint.
native_sa() {
	local ns=$1 src=$2 dst=$3 spi=$4 mode=$5 reqid=$6
	shift 6
	ip -n "$ns" xfrm state add src "$src" dst "$dst" proto esp spi "$spi" \
		mode "$mode" reqid "$reqid" replay-window 64 "$@"
}

# native_policy NS DIR SRCSEL DSTSEL TSRC TDST MODE REQID [PROTO]
native_policy() {
	local ns=$1 dir=$2 ssel=$3 dsel=$4 tsrc=$5 tdst=$6 mode=$7 reqid=$8 proto=${9:-esp}
	ip -n "$ns" xfrm policy add dir "$dir" src "$ssel" dst "$dsel" \
		tmpl src "$tsrc" dst "$tdst" proto "$proto" mode "$mode" reqid "$reqid"
}

# --- the wire ------------------------------------------------------------------

CAPS=()

# capture_start NAME NS DEV: tcpdump into /tmp/NAME.pcap, returns when it
# is listening (up to 20 s; the wait starts no process, so that tcpdump
# has the CPU to start).
capture_start() {
	local name=$1 ns=$2 dev=$3 i
	rm -f "/tmp/$name.pcap" "/tmp/$name.log"
	ip netns exec "$ns" tcpdump -i "$dev" --immediate-mode -U -n -s 0 -w "/tmp/$name.pcap" \
		>"/tmp/$name.log" 2>&1 &
	CAPS+=("$!")
	for ((i = 0; i < 400; i++)); do
		file_has "/tmp/$name.log" 'listening on' && return 0
		nap 0.05
	done
	echo "tcpdump did not start: $(cat "/tmp/$name.log")" >&2
	return 1
}

# _idle PID: the process sleeps (state S), has exited (Z) or is gone
_idle() {
	local st
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 0
	st=${st##*) }
	[[ ${st%% *} == [SZ] ]]
}

# capture_stop: end the captures. A packet the test waited for has passed
# m, so it is in tcpdump's ring (--immediate-mode: TPACKET_V2, no block
# timeout), and tcpdump writes each packet out (-U) before it sleeps in
# poll again; a SIGTERM before then would lose the rest of the ring. So:
# 0.1 s for stragglers still in a queue, then until each tcpdump sleeps
# (at most 2 s more), then SIGTERM.
capture_stop() {
	local p i
	nap 0.1
	for p in "${CAPS[@]}"; do
		for ((i = 0; i < 40; i++)); do
			_idle "$p" && break
			nap 0.05
		done
	done
	for p in "${CAPS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${CAPS[@]}"; do wait "$p" 2>/dev/null; done
	CAPS=()
}

# hold_start DEV: m drops AH arriving on DEV (IPv4 and IPv6) at ingress,
# after a capture into /tmp/held.pcap has seen it, so that a test can
# resend the packets itself (as they were, or tampered with).
hold_start() {
	tc -n m qdisc add dev "$1" clsact
	tc -n m filter add dev "$1" ingress protocol ip prio 1 \
		u32 match ip protocol 51 0xff action drop
	tc -n m filter add dev "$1" ingress protocol ipv6 prio 2 \
		u32 match ip6 protocol 51 0xff action drop
	capture_start held m "$1"
}

# hold_stop DEV: the capture stopped, DEV forwards AH again
hold_stop() {
	capture_stop
	tc -n m qdisc del dev "$1" clsact
}

# pcap_count NAME FILTER: packets in the capture that match a tcpdump filter
# (tcpdump counts them itself: one process). A capture or filter tcpdump
# cannot read gives no number, which fails the comparison it feeds.
pcap_count() {
	local out
	out=$(tcpdump -r "/tmp/$1.pcap" -n --count "$2" 2>&1)
	if [[ $out =~ (^|$'\n')([0-9]+)\ packets? ]]; then
		echo "${BASH_REMATCH[2]}"
	else
		echo "pcap_count $1 '$2': ${out//$'\n'/ }" >&2
		echo "unreadable"
	fi
}

# pcap_has_text NAME TEXT: does any packet carry TEXT in clear? The pcap
# file itself is searched: a packet's bytes are stored in one piece, and
# between two packets lies a 16-byte record header, so TEXT is in the
# file exactly when one packet holds it (and grep reads it faster than
# tcpdump -A prints it).
pcap_has_text() {
	[ -s "/tmp/$1.pcap" ] && grep -qaF -- "$2" "/tmp/$1.pcap"
}

# A payload marker that must never be seen on the wire in clear.
MARKER=KIPSEC-CLEARTEXT-MARKER
# ping with the marker as payload pattern (hex of the first 16 bytes; ping
# takes no longer pattern). Look for MARKER_PING on the wire: the whole
# MARKER never appears in a ping, its first 16 bytes appear in both.
MARKER_PING=${MARKER:0:16}
MARKER_HEX=$(printf '%s' "$MARKER_PING" | od -An -tx1 | tr -d ' \n')

# wait_listener NS t|u PORT: wait (up to 60 s) until a TCP (t) or UDP (u)
# socket listens on PORT in NS: the listener itself, not a guessed delay
# (a loaded TCG guest can take seconds to start python).
wait_listener() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ -n "$(ip netns exec "$1" ss -Hl"$2"n "sport = :$3")" ] && return 0
		nap 0.1
	done
	return 1
}

# tcp_transfer SRCNS DSTNS DSTADDR BYTES [PORT]: send BYTES of a file that
# repeats the marker over TCP; what the receiver wrote must be the same
# bytes. No python (a python start costs about a second under TCG):
# busybox nc receives until the sender closes, bash's /dev/tcp sends. The
# receiver's stdin is /dev/null, so it half-closes its own side at once:
# harmless, the sender only writes. Process starts are most of a small
# transfer's time under TCG, so the file is made once per size, and the
# sender, rather than polling ss for the listener, retries its connect
# every 0.1 s until the listener answers (a refused SYN is answered with
# a RST through the same policies: no cleartext, and no test counts
# exact TCP packets). The sender runs lib.sh's own nap between its tries
# (the function is passed in, the FIFO's descriptor inherited).
tcp_transfer() {
	local sns=$1 dns=$2 addr=$3 bytes=$4 port=${5:-5001} tx=/tmp/tx-$4.bin pid
	if [ ! -f "$tx" ]; then
		yes "$MARKER" | tr -d '\n' | head -c "$bytes" >"$tx.new" &&
			mv "$tx.new" "$tx" || return 1
	fi
	rm -f /tmp/rx.bin
	ip netns exec "$dns" timeout 120 busybox nc -l -p "$port" \
		</dev/null >/tmp/rx.bin &
	pid=$!
	# shellcheck disable=SC2016 # the sender's own arguments
	ip netns exec "$sns" timeout 120 bash -c "$(declare -f nap)"'
		NAP_FD=$4
		for ((i = 0; i < 300; i++)); do
			{ exec 3>"/dev/tcp/$1/$2"; } 2>/dev/null && exec cat "$3" >&3
			nap 0.1
		done
		echo "tcp_transfer: nothing listens on $1 port $2" >&2
		exit 1' _ "$addr" "$port" "$tx" "$NAP_FD" || { kill $pid 2>/dev/null; return 1; }
	wait $pid || return 1
	cmp "$tx" /tmp/rx.bin
}

# --- counters ------------------------------------------------------------------

# Counters are read often, and under TCG each process start costs 65-250
# ms: the readers below start one process each (kipsec enters the
# namespace itself, bash's own regex takes the figure out; the counter
# names are unique in these outputs).

# kipsec_sa_pkts NS SPI DST in|out [PROTO]: packets counted by a kipsec SA
# (PROTO esp by default)
kipsec_sa_pkts() {
	local out
	out=$("$KIPSEC" -n "$1" -j -s sa get dst "$3" proto "${5:-esp}" spi "$2") &&
		[[ $out =~ \"${4}_packets\":\ *([0-9]+) ]] && echo "${BASH_REMATCH[1]}"
}

# kipsec_stat NS NAME: one namespace counter of `kipsec -j stats`
kipsec_stat() {
	local out
	out=$("$KIPSEC" -n "$1" -j stats) &&
		[[ $out =~ \"$2\":\ *([0-9]+) ]] && echo "${BASH_REMATCH[1]}"
}

# native_pkts NS SRC DST SPI [PROTO]: packets counted by a native XFRM SA
# (PROTO esp by default; the line after "lifetime current:" is
# "BYTES(bytes), PACKETS(packets)")
native_pkts() {
	local out
	out=$(ip -n "$1" -s xfrm state get src "$2" dst "$3" proto "${5:-esp}" spi "$4") &&
		[[ $out =~ lifetime\ current:[[:space:]]+[0-9]+\(bytes\),\ ([0-9]+)\(packets\) ]] &&
		echo "${BASH_REMATCH[1]}"
}

# ping_received FILE: the "N received" figure of a finished ping's output
ping_received() {
	sed -n 's/.* \([0-9]*\) received.*/\1/p' "$1"
}

# ping_sent FILE: the "N packets transmitted" figure
ping_sent() {
	sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$1"
}
