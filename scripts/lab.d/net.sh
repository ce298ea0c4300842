# The lab network, its isolation, and the network faults (cut/heal, slow).
# Rules live in Docker's DOCKER-USER chain (evaluated before Docker's own) and
# carry the comment "edgeops-lab:<LAB_NAME>:..." so that down removes exactly its own.
# shellcheck shell=bash

ensure_network() {
	local subnet
	subnet=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$LAB_NAME" 2>/dev/null || true)
	if [[ -z $subnet ]]; then
		say "creating network $LAB_NAME ($LAB_SUBNET, gateway $NET_GW)"
		docker network create --driver bridge --subnet "$LAB_SUBNET" --gateway "$NET_GW" \
			--label "$LAB_LABEL=$LAB_NAME" "$LAB_NAME" >/dev/null ||
			die "docker network create $LAB_NAME ($LAB_SUBNET) failed; if the subnet overlaps another lab, pick another LAB_SUBNET (reserved ones: docs/CONTRACTS.md)"
	elif [[ $subnet != "$LAB_SUBNET" ]]; then
		die "network $LAB_NAME exists with subnet $subnet, not $LAB_SUBNET: run 'LAB_SUBNET=$subnet scripts/lab down' first"
	fi
}

bridge_name() {
	local id name
	name=$(docker network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' "$LAB_NAME" 2>/dev/null || true)
	if [[ -n $name && $name != "<no value>" ]]; then
		echo "$name"
		return
	fi
	id=$(docker network inspect -f '{{.Id}}' "$LAB_NAME") || die "no network $LAB_NAME: run 'scripts/lab up N'"
	echo "br-${id:0:12}"
}

# rule ADD|DEL TAG ARGS...: one DOCKER-USER rule, added only once.
rule() {
	local op=$1 tag=$2
	shift 2
	local spec=("$@" -m comment --comment "edgeops-lab:$LAB_NAME:$tag" -j DROP)
	if iptables -w -C DOCKER-USER "${spec[@]}" 2>/dev/null; then
		[[ $op == DEL ]] && iptables -w -D DOCKER-USER "${spec[@]}"
	else
		[[ $op == ADD ]] && { iptables -w -I DOCKER-USER 1 "${spec[@]}" || die "iptables: cannot add a rule to DOCKER-USER (is Docker's iptables management on?)"; }
	fi
	return 0
}

# ensure_isolation: lab hosts reach each other and this machine, nothing else.
# Traffic to this machine is INPUT, not FORWARD, so it is untouched.
ensure_isolation() {
	command -v iptables >/dev/null || die "iptables is missing: apt-get install iptables"
	iptables -w -nL DOCKER-USER >/dev/null 2>&1 || die "the DOCKER-USER chain is missing: the Docker engine must manage iptables"
	local br
	br=$(bridge_name)
	rule ADD isolate -i "$br" ! -o "$br"
}

# lab_rules prints this lab's DOCKER-USER rules (as iptables -S lines) whose tag starts with $1.
lab_rules() {
	iptables -w -S DOCKER-USER 2>/dev/null | grep -E -- "--comment \"?edgeops-lab:$LAB_NAME:$1" || true
}

# lab_mangle_rules: this lab's rules in mangle PREROUTING (slow's NFQUEUE rules).
lab_mangle_rules() {
	iptables -w -t mangle -S PREROUTING 2>/dev/null | grep -E -- "--comment \"?edgeops-lab:$LAB_NAME:" || true
}

# delete_rules [TABLE]: deletes the iptables -S lines read from stdin.
delete_rules() {
	local table=${1:-filter} line args
	while read -r line; do
		[[ -n $line ]] || continue
		read -ra args <<<"${line/#-A /-D }"
		iptables -w -t "$table" "${args[@]//\"/}" || true
	done
}

cmd_cut() {
	local i ip
	i=$(resolve_host "${1:-}") ip=$(host_ip "$i")
	rule ADD "cut:$ip" -s "$ip"
	rule ADD "cut:$ip" -d "$ip"
	say "cut $(host_name "$i") ($ip) off from the other hosts (ssh from this machine still works)"
}

heal_rules() { lab_rules "cut:${1//./\\.}( |\"|$)" | delete_rules filter; }

cmd_heal() {
	local i ip
	i=$(resolve_host "${1:-}") ip=$(host_ip "$i")
	heal_rules "$ip"
	say "healed $(host_name "$i") ($ip)"
}
