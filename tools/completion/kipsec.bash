# SPDX-License-Identifier: GPL-2.0
# bash completion for kipsec(8)

# Live values come from the kipsec being completed (same -n NETNS), so
# SPIs, policy ids and algorithms are those of that namespace and kernel.
_kipsec_json() {
	# _kipsec_json SUBCOMMAND... PYTHON_EXPR: values from kipsec -j output
	local expr=${!#}
	"${_kipsec_cmd[@]}" -j "${@:1:$#-1}" 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    sys.exit(0)
for v in eval(sys.argv[1]):
    print(v)' "$expr" 2>/dev/null
}

_kipsec_algs() {
	local kind=$1 names
	names=$(_kipsec_json algs "[a['name'] for a in d if a.get('kind') == '$kind']")
	if [[ -z $names ]]; then
		case $kind in
		aead) names="rfc4106(gcm(aes)) rfc7539esp(chacha20,poly1305) rfc4309(ccm(aes)) rfc4543(gcm(aes))" ;;
		crypt) names="cbc(aes) rfc3686(ctr(aes)) ecb(cipher_null)" ;;
		auth) names="hmac(sha1) hmac(sha256) hmac(sha384) hmac(sha512) xcbc(aes) cmac(aes)" ;;
		esac
	fi
	# names carry parentheses: offer them quoted, and match what was typed
	# with or without its opening quote
	local typed=${cur#[\'\"]}
	COMPREPLY=($(compgen -W "$names" -- "$typed"))
	COMPREPLY=("${COMPREPLY[@]/#/\'}")
	COMPREPLY=("${COMPREPLY[@]/%/\'}")
}

_kipsec() {
	local cur prev words cword
	_init_completion -n : 2>/dev/null || {
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	}

	local i cmd="" sub="" nargs=0
	_kipsec_cmd=("${words[0]}")
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-n|-netns) _kipsec_cmd+=(-n "${words[i + 1]}"); ((i++)); continue ;;
		-batch|-b) ((i++)); continue ;;
		-*) continue ;;
		esac
		if [[ -z $cmd ]]; then
			cmd=${words[i]}
		elif [[ -z $sub ]]; then
			sub=${words[i]}
		fi
		((nargs++))
	done

	case $prev in
	-n|-netns)
		COMPREPLY=($(compgen -W "$(ls /run/netns 2>/dev/null)" -- "$cur"))
		return ;;
	-batch|-b)
		_filedir 2>/dev/null || COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	esac

	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "sa policy config stats algs explain monitor help
			-j -s -k --keys -n -batch -force" -- "$cur"))
		return
	fi

	case $cmd in
	sa|state)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "add update del get show flush getspi" -- "$cur"))
			return
		fi
		case $prev in
		proto)
			if [[ " ${words[*]} " == *" sel "* ]]; then
				COMPREPLY=($(compgen -W "tcp udp icmp ipv6-icmp sctp udplite gre" -- "$cur"))
			else
				COMPREPLY=($(compgen -W "esp ah" -- "$cur"))
			fi
			return ;;
		mode) COMPREPLY=($(compgen -W "transport tunnel" -- "$cur")); return ;;
		df) COMPREPLY=($(compgen -W "copy set clear" -- "$cur")); return ;;
		flag) COMPREPLY=($(compgen -W "esn noecn nodscp nonstd-trunc" -- "$cur")); return ;;
		lifetime) COMPREPLY=($(compgen -W "soft hard" -- "$cur")); return ;;
		encap) COMPREPLY=($(compgen -W "espinudp" -- "$cur")); return ;;
		aead) _kipsec_algs aead; return ;;
		enc) _kipsec_algs crypt; return ;;
		auth|auth-trunc) _kipsec_algs auth; return ;;
		spi)
			if [[ $sub == del || $sub == get || $sub == update ]]; then
				COMPREPLY=($(compgen -W "$(_kipsec_json sa show "sorted({s['spi'] for s in d})")" -- "$cur"))
			fi
			return ;;
		dst)
			if [[ $sub == del || $sub == get || $sub == update ]]; then
				COMPREPLY=($(compgen -W "$(_kipsec_json sa show "sorted({s['dst'] for s in d})")" -- "$cur"))
			fi
			return ;;
		src|reqid|replay-window|seq-out|seq-in|sport|dport|type|code|min|max|bytes|packets|add|use)
			return ;;
		esac
		case $sub in
		add|update)
			COMPREPLY=($(compgen -W "src dst proto spi mode reqid aead enc auth
				auth-trunc replay-window flag esn df seq-out seq-in encap
				lifetime sel bytes packets add use sport dport type code" -- "$cur")) ;;
		del|get) COMPREPLY=($(compgen -W "src dst proto spi -k -s -j" -- "$cur")) ;;
		show) COMPREPLY=($(compgen -W "-s -k -j" -- "$cur")) ;;
		flush) COMPREPLY=($(compgen -W "proto" -- "$cur")) ;;
		getspi) COMPREPLY=($(compgen -W "src dst proto min max mode reqid" -- "$cur")) ;;
		esac
		;;
	policy)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "add update del get show flush" -- "$cur"))
			return
		fi
		case $prev in
		dir) COMPREPLY=($(compgen -W "in out fwd" -- "$cur")); return ;;
		action) COMPREPLY=($(compgen -W "protect bypass discard" -- "$cur")); return ;;
		mode) COMPREPLY=($(compgen -W "transport tunnel" -- "$cur")); return ;;
		level) COMPREPLY=($(compgen -W "required use" -- "$cur")); return ;;
		proto)
			if [[ " ${words[*]} " == *" tmpl "* ]]; then
				COMPREPLY=($(compgen -W "esp ah" -- "$cur"))
			else
				COMPREPLY=($(compgen -W "tcp udp icmp ipv6-icmp sctp udplite gre" -- "$cur"))
			fi
			return ;;
		id|index)
			COMPREPLY=($(compgen -W "$(_kipsec_json policy show "sorted(p['id'] for p in d)")" -- "$cur"))
			return ;;
		src|dst|sport|dport|type|code|priority|reqid|spi) return ;;
		esac
		case $sub in
		add|update)
			COMPREPLY=($(compgen -W "dir src dst proto sport dport type code
				priority action tmpl mode reqid spi level id" -- "$cur")) ;;
		del|get) COMPREPLY=($(compgen -W "id dir src dst proto sport dport type code priority" -- "$cur")) ;;
		show) COMPREPLY=($(compgen -W "-s -j" -- "$cur")) ;;
		flush) COMPREPLY=($(compgen -W "dir" -- "$cur")) ;;
		esac
		;;
	config)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "set show" -- "$cur"))
		elif [[ $prev == default-* ]]; then
			COMPREPLY=($(compgen -W "bypass discard" -- "$cur"))
		elif [[ $sub == set ]]; then
			COMPREPLY=($(compgen -W "default-in default-out default-fwd" -- "$cur"))
		fi
		;;
	explain)
		case $prev in
		dir) COMPREPLY=($(compgen -W "in out fwd" -- "$cur")) ;;
		proto) COMPREPLY=($(compgen -W "tcp udp icmp ipv6-icmp sctp udplite gre esp ah" -- "$cur")) ;;
		src|dst|sport|dport|type|code) ;;
		*) COMPREPLY=($(compgen -W "dir src dst proto sport dport type code" -- "$cur")) ;;
		esac
		;;
	stats|algs|monitor)
		COMPREPLY=($(compgen -W "-j -s" -- "$cur")) ;;
	esac
}
complete -F _kipsec kipsec
