#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test topology itself, checked with the native XFRM stack on both
# ends: ESP in tunnel mode between a and b, the capture in the middle sees
# ESP and never the payload marker. If this fails, interop failures of the
# other tests mean nothing.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"

native_modules
topo_hosts
KEY=0x0102030405060708090a0b0c0d0e0f1011121314
for fam in 4 6; do
	if [ $fam = 4 ]; then sa=$A4; sb=$B4; else sa=$A6; sb=$B6; fi
	# One ip -batch per end (native_sa's and native_policy's words):
	# every process start costs under TCG.
	for ns in a b; do
		if [ $ns = a ]; then lo=$sa re=$sb; else lo=$sb re=$sa; fi
		ip -n $ns -force -batch - <<-EOF
		xfrm state flush
		xfrm policy flush
		xfrm state add src $sa dst $sb proto esp spi 0x1001 mode tunnel reqid 1 replay-window 64 aead 'rfc4106(gcm(aes))' $KEY 128
		xfrm state add src $sb dst $sa proto esp spi 0x2001 mode tunnel reqid 1 replay-window 64 aead 'rfc4106(gcm(aes))' $KEY 128
		xfrm policy add dir out src $lo dst $re tmpl src $lo dst $re proto esp mode tunnel reqid 1
		xfrm policy add dir in src $re dst $lo tmpl src $re dst $lo proto esp mode tunnel reqid 1
		EOF
	done
	capture_start wire m m0
	t_check "IPv$fam: ping a -> b through native ESP" \
		n a ping -$fam -c 3 -i 0.1 -W 2 -p "$MARKER_HEX" $sb
	t_check "IPv$fam: TCP transfer b -> a, checksum verified" \
		tcp_transfer b a $sa 200000
	capture_stop
	t_check "IPv$fam: ESP on the wire" test "$(pcap_count wire esp)" -ge 6
	t_check_fail "IPv$fam: no cleartext marker on the wire" pcap_has_text wire "$MARKER_PING"
	t_eq "IPv$fam: no ICMP echo or TCP in clear on the wire" \
		"$(pcap_count wire 'tcp or icmp or (icmp6 and (ip6[40] == 128 or ip6[40] == 129))')" 0
done
t_done
