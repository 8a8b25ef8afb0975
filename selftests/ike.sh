#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two strongSwan gateways on topo_gateways (net.sh), sourced after lib.sh
# and net.sh by tests/strongswan.sh and by the demo:
#
#   ga: charon with tools/strongswan/{strongswan,swanctl}.conf as shipped
#       (children with policies = no, mark_in + mark_in_sa), kipsec as the
#       datapath, `kipsec sync-xfrm` between them;
#   gb: an ordinary charon on the native XFRM stack.
#
# Each charon runs in its own mount namespace with a tmpfs on /run (pid
# file), its VICI socket and log under $SS_DIR/<gw>/.

SS_DIR=${SS_DIR:-/tmp/ss}
SS_PIDS=()
SYNC_PID=

# ss_swanctl GW ARGS...: swanctl against that gateway's charon
ss_swanctl() {
	local g=$1
	shift
	STRONGSWAN_CONF=$SS_DIR/$g/strongswan.conf SWANCTL_DIR=$SS_DIR/$g/swanctl \
		swanctl "$@" --uri "unix://$SS_DIR/$g/charon.vici"
}

ss_configure() {
	local g secret
	rm -f "$SS_DIR/ga/sync.log" "$SS_DIR/ga/sync.old.log"
	secret=$(sed -n 's/^[[:space:]]*secret = //p' "$KIPSEC_TOP/tools/strongswan/swanctl.conf")
	for g in ga gb; do
		mkdir -p "$SS_DIR/$g/swanctl"
		cat >"$SS_DIR/$g/strongswan.conf" <<-EOF
		include $KIPSEC_TOP/tools/strongswan/strongswan.conf
		# swanctl: only what a PSK configuration needs (fast under TCG)
		swanctl {
			load = random openssl pem pkcs1 x509 pubkey
		}
		charon {
			filelog {
				charon-log {
					path = $SS_DIR/$g/charon.log
					default = 1
					flush_line = yes
				}
			}
			plugins {
				vici {
					socket = unix://$SS_DIR/$g/charon.vici
				}
			}
		}
		EOF
	done
	# ga: the shipped kipsec-side configuration, unchanged
	cp "$KIPSEC_TOP/tools/strongswan/swanctl.conf" "$SS_DIR/ga/swanctl/swanctl.conf"
	# gb: the same tunnel seen from the other end, native policies
	cat >"$SS_DIR/gb/swanctl/swanctl.conf" <<-EOF
	connections {
		gw {
			local_addrs = 10.0.2.1
			remote_addrs = 10.0.1.1
			proposals = aes128gcm16-prfsha256-ecp256
			local {
				auth = psk
				id = gb
			}
			remote {
				auth = psk
				id = ga
			}
			children {
				net {
					local_ts = 10.2.0.0/24
					remote_ts = 10.1.0.0/24
					mode = tunnel
					esp_proposals = aes128gcm16
				}
			}
		}
	}
	secrets {
		ike-gw {
			id-ga = ga
			id-gb = gb
			secret = $secret
		}
	}
	EOF
}

# Tests add children and options to the generated swanctl.conf after
# ss_configure, before --load-all; the shipped files stay as they are.
#
# ss_child_opts GW CHILD LINE...: add settings to a child, e.g.
#   ss_child_opts ga net "rekey_bytes = 50000"
ss_child_opts() {
	local g=$1 c=$2 f=$SS_DIR/$1/swanctl/swanctl.conf
	shift 2
	awk -v c="$c" -v add="$(printf '%s\n' "$@")" '
		{ print }
		!done && $1 == c && $2 == "{" { print add; done = 1 }
	' "$f" >"$f.new" && mv "$f.new" "$f"
	grep -q "^[[:space:]]*$c {" "$f"
}

# ss_add_child GW NAME LINE...: a new child of connection gw, with the given
# settings (one per line); on ga it gets the kipsec settings of the shipped
# child (policies = no, mark_in + mark_in_sa).
ss_add_child() {
	local g=$1 c=$2 f=$SS_DIR/$1/swanctl/swanctl.conf
	shift 2
	[ "$g" = ga ] && set -- "$@" "policies = no" "mark_in = 0x4b" "mark_in_sa = yes"
	awk -v add="$(printf '%s {\n' "$c"; printf '%s\n' "$@"; printf '}\n')" '
		{ print }
		!done && $1 == "children" && $2 == "{" { print add; done = 1 }
	' "$f" >"$f.new" && mv "$f.new" "$f"
}

# ss_add_conn GW NAME LOCAL REMOTE CHILD LTS RTS [CHILD LTS RTS]...: a
# further connection between the gateways (e.g. over IPv6), PSK with the
# identities of gw, one AES-GCM tunnel child per triple; on ga the children
# get the kipsec settings of the shipped child.
ss_add_conn() {
	local g=$1 name=$2 l=$3 r=$4 f=$SS_DIR/$1/swanctl/swanctl.conf me peer b
	shift 4
	me=$g
	peer=$([ "$g" = ga ] && echo gb || echo ga)
	b=$(printf '%s {\nlocal_addrs = %s\nremote_addrs = %s\nproposals = aes128gcm16-prfsha256-ecp256\nlocal {\nauth = psk\nid = %s\n}\nremote {\nauth = psk\nid = %s\n}\nchildren {\n' \
		"$name" "$l" "$r" "$me" "$peer")
	while [ $# -ge 3 ]; do
		b+=$(printf '%s {\nlocal_ts = %s\nremote_ts = %s\nmode = tunnel\nesp_proposals = aes128gcm16\n' \
			"$1" "$2" "$3")
		[ "$g" = ga ] && b+=$(printf '\npolicies = no\nmark_in = 0x4b\nmark_in_sa = yes')
		b+=$'\n}\n'
		shift 3
	done
	b+=$'}\n}'
	awk -v add="$b" '
		{ print }
		!done && $1 == "connections" && $2 == "{" { print add; done = 1 }
	' "$f" >"$f.new" && mv "$f.new" "$f"
}

# ss_lan N...: for each N a further LAN pair 10.1.N.0/24 (ha 10.1.N.2, ga
# 10.1.N.1) and 10.2.N.0/24 (hb 10.2.N.2, gb 10.2.N.1), routed like the
# first one, for a child of its own. One ip -batch per namespace (each
# process start costs under TCG; -force: a failing line does not stop the
# rest, as separate commands did not).
ss_lan() {
	local n
	for n in "$@"; do echo "addr add 10.1.$n.2/24 dev ha0"; done | ip -n ha -force -batch -
	for n in "$@"; do
		echo "addr add 10.1.$n.1/24 dev ga1"
		echo "route add 10.2.$n.0/24 via 10.0.1.254"
	done | ip -n ga -force -batch -
	for n in "$@"; do
		echo "addr add 10.2.$n.1/24 dev gb1"
		echo "route add 10.1.$n.0/24 via 10.0.2.254"
	done | ip -n gb -force -batch -
	for n in "$@"; do echo "addr add 10.2.$n.2/24 dev hb0"; done | ip -n hb -force -batch -
}

# ss_start_charon GW: start charon in GW's namespace, wait for VICI
ss_start_charon() {
	local g=$1 i
	rm -f "$SS_DIR/$g/charon.vici"
	ip netns exec "$g" unshare -m --propagation private sh -c \
		"mount -t tmpfs tmpfs /run && STRONGSWAN_CONF=$SS_DIR/$g/strongswan.conf exec /usr/lib/ipsec/charon" \
		>"$SS_DIR/$g/charon.out" 2>&1 &
	SS_PIDS+=("$!")
	printf -v "SS_CHARON_$g" %s "$!"	# charon itself (everything execs)
	# poll the socket, not swanctl: each swanctl start costs CPU charon needs
	for ((i = 0; i < 300; i++)); do
		[ -S "$SS_DIR/$g/charon.vici" ] &&
			ss_swanctl "$g" --stats >/dev/null 2>&1 && return 0
		nap 0.2
	done
	echo "charon in $g did not start:" >&2
	tail -n 20 "$SS_DIR/$g/charon.out" "$SS_DIR/$g/charon.log" >&2
	return 1
}

# ss_start_sync [ARGS...]: kipsec sync-xfrm on ga, returns when it runs
# (up to 30 s); its log is sync.log, the logs of earlier instances go to
# sync.old.log
ss_start_sync() {
	local i
	[ -f "$SS_DIR/ga/sync.log" ] &&
		cat "$SS_DIR/ga/sync.log" >>"$SS_DIR/ga/sync.old.log"
	ip netns exec ga "$KIPSEC" sync-xfrm --vici "$SS_DIR/ga/charon.vici" "$@" \
		>"$SS_DIR/ga/sync.log" 2>&1 &
	SYNC_PID=$!
	for ((i = 0; i < 300; i++)); do
		file_has "$SS_DIR/ga/sync.log" 'info: running' && return 0
		kill -0 "$SYNC_PID" 2>/dev/null || break
		nap 0.1
	done
	cat "$SS_DIR/ga/sync.log" >&2
	return 1
}

# ss_stop_sync: SIGTERM, wait; its exit status. A sync-xfrm that is still
# there after 60 s is killed (status 1) rather than hang the test.
ss_stop_sync() {
	local rc=0 i
	[ -n "$SYNC_PID" ] || return 0
	kill "$SYNC_PID" 2>/dev/null
	for ((i = 0; i < 300; i++)); do
		kill -0 "$SYNC_PID" 2>/dev/null || break
		nap 0.2
	done
	if kill -0 "$SYNC_PID" 2>/dev/null; then
		echo "sync-xfrm did not stop on SIGTERM: killed" >&2
		kill -9 "$SYNC_PID"
		wait "$SYNC_PID"
		rc=1
	else
		wait "$SYNC_PID" || rc=$?
	fi
	SYNC_PID=
	return $rc
}

ss_stop_all() {
	local p
	ss_stop_sync
	for p in "${SS_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${SS_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	SS_PIDS=()
}

# wait_until SECS CMD...: poll CMD every 0.2 s (at least SECS in all)
wait_until() {
	local n=$(($1 * 5))
	shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		nap 0.2
		n=$((n - 1))
	done
	return 1
}
