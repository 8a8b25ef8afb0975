#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Offline test of the bash completion: a stand-in `kipsec` prints canned
# JSON (and records its arguments), the completion function runs on
# prepared command lines. Checks that live SPIs, policy ids and algorithm
# names come from the CLI, that -n NETNS is passed on, and that keywords
# complete. Prints KTAP.
#
#   test.sh [COMPLETION_FILE]     default: kipsec.bash beside this script

set -u
comp=${1:-$(dirname "$0")/kipsec.bash}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/kipsec" <<'EOF'
#!/bin/bash
echo "$*" >>"${0%/*}/calls"
case "$*" in
*"sa show"*) echo '[{"src":"10.0.1.1","dst":"10.0.2.1","proto":"esp","spi":"0x00001001"},
	{"src":"10.0.2.1","dst":"10.0.1.1","proto":"esp","spi":"0x00002002"}]' ;;
*"policy show"*) echo '[{"id":3,"dir":"out"},{"id":17,"dir":"in"}]' ;;
*algs*) echo '[{"name":"rfc4106(gcm(aes))","kind":"aead"},{"name":"cbc(aes)","kind":"crypt"},
	{"name":"hmac(sha256)","kind":"auth"},{"name":"hmac(sha512)","kind":"auth"}]' ;;
esac
EOF
chmod +x "$tmp/kipsec"

# shellcheck disable=SC1090
. "$comp"
n=0 failed=0
# t DESC EXPECTED WORD...: complete the last WORD of the command line
t() {
	local desc=$1 want=$2 got
	shift 2
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	: >"$tmp/calls"
	_kipsec
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
	n=$((n + 1))
	if [ "$got" == "$want" ]; then
		echo "ok $n $desc"
	else
		failed=$((failed + 1))
		echo "not ok $n $desc"
		echo "# got:      '$got'"
		echo "# expected: '$want'"
	fi
}

K=$tmp/kipsec
echo "KTAP version 1"
t "subcommands" "sa stats " $K s
t "sa subcommands" "del " $K sa d
t "live SPIs for sa del" "0x00001001 0x00002002 " $K sa del spi ""
t "live SPIs filtered by prefix" "0x00002002 " $K sa get spi 0x0000200
t "live destinations for sa get" "10.0.1.1 10.0.2.1 " $K sa get dst ""
t "live policy ids" "17 3 " $K policy del id ""
t "AEAD names from kipsec algs, quoted" "'rfc4106(gcm(aes))' " $K sa add aead ""
t "auth names, typed with an opening quote" "'hmac(sha256)' 'hmac(sha512)' " $K sa add auth "'hmac"
t "cipher names" "'cbc(aes)' " $K sa add enc c
t "explain keywords" "dir dport dst " $K explain d
t "explain dir" "fwd in out " $K explain dir ""
t "policy actions" "bypass discard protect " $K policy add action ""
t "-n NETNS reaches the live query" "0x00001001 0x00002002 " $K -n vpn sa del spi ""
n=$((n + 1))
if grep -q -- "-n vpn -j sa show" "$tmp/calls"; then
	echo "ok $n the query ran in namespace vpn"
else
	failed=$((failed + 1))
	echo "not ok $n the query ran in namespace vpn"
	sed -e 's/^/# calls: /' "$tmp/calls"
fi
echo "1..$n"
[ "$failed" -eq 0 ]
