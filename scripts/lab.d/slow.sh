# slow HOST PROFILE: shape a host's outgoing link (latency, bandwidth, loss).
# Uses tc netem where the kernel has it. The lab machines' kernel has no netem
# qdisc, so there: tbf in the host for bandwidth, and for delay and loss
# lab-netem (test/lab/netem) on this machine, fed by an NFQUEUE rule (with
# --queue-bypass) in this machine's mangle PREROUTING for the host's packets.
# The delay happens here, after the packets left the host: delaying them in
# the host itself would hold them against the sender's TCP Small Queues budget
# and cap a TCP stream at a few packets per delay.
# Egress only: a ping to the slowed host comes back one delay later.
# shellcheck shell=bash

NETEM_SRC=$REPO_ROOT/test/lab/netem

# netem_queue IP: an NFQUEUE number for this address (queues are machine-wide).
netem_queue() {
	local c d
	IFS=. read -r _ _ c d <<<"$1"
	echo $(((c * 256 + d) % 65536))
}

# netem_rule ADD|DEL I: the rule handing host I's packets to its delayer.
netem_rule() {
	local ip
	ip=$(host_ip "$2")
	local spec=(-s "$ip" -m comment --comment "edgeops-lab:$LAB_NAME:slow:$ip" -j NFQUEUE --queue-num "$(netem_queue "$ip")" --queue-bypass)
	if iptables -w -t mangle -C PREROUTING "${spec[@]}" 2>/dev/null; then
		[[ $1 == DEL ]] && iptables -w -t mangle -D PREROUTING "${spec[@]}"
	else
		[[ $1 == ADD ]] && { iptables -w -t mangle -I PREROUTING 1 "${spec[@]}" || die "iptables: cannot add the NFQUEUE rule for $ip"; }
	fi
	return 0
}

netem_dir() { echo "$LAB_STATE/netem/$LAB_NAME"; }

# profile NAME prints "DELAY RATE LOSS" (loss in percent, no % sign).
profile() {
	case $1 in
	edge) echo "80ms 20mbit 1" ;;
	wan) echo "30ms 100mbit 0.1" ;;
	*/*/*)
		local d r l
		IFS=/ read -r d r l <<<"$1"
		l=${l%\%}
		[[ $d =~ ^[0-9]+(ms|us|s)$ && $r =~ ^[0-9]+(kbit|mbit|gbit)$ && $l =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
			die "slow: bad profile '$1': expected DELAY/RATE/LOSS like 200ms/5mbit/2%"
		echo "$d $r $l"
		;;
	*) die "slow: unknown profile '$1': use edge (80ms, 20mbit, 1% loss), wan (30ms, 100mbit, 0.1%), DELAY/RATE/LOSS, or clear" ;;
	esac
}

netem_pid_ok() {
	local pid=$1
	[[ -n $pid && -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q lab-netem
}

# netem_stop I ends host I's delayer (only the process we started: pid file + its command line).
netem_stop() {
	local i=$1 dir pid
	dir=$(netem_dir)
	[[ -f $dir/$i.pid ]] || { rm -f "$dir/$i.profile"; return 0; }
	pid=$(cat "$dir/$i.pid")
	if netem_pid_ok "$pid"; then
		kill "$pid" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do netem_pid_ok "$pid" || break; sleep 0.1; done
	fi
	rm -f "$dir/$i.pid" "$dir/$i.profile"
}

netem_stop_all() {
	local dir f
	dir=$(netem_dir)
	[[ -d $dir ]] || return 0
	for f in "$dir"/*.pid; do
		[[ -e $f ]] && netem_stop "$(basename "$f" .pid)"
	done
	rm -rf "$dir"
}

netem_describe() {
	local f
	f=$(netem_dir)/$1.profile
	[[ -f $f ]] && printf '  [slow: %s]' "$(cat "$f")"
	return 0
}

# in_host I CMD...: run a command in host I (its own tools, its network namespace).
in_host() {
	local i=$1
	shift
	docker exec "$(host_name "$i")" "$@"
}

slow_clear() {
	local i=$1
	in_host "$i" tc qdisc del dev eth0 root 2>/dev/null || true
	netem_rule DEL "$i"
	netem_stop "$i"
}

cmd_slow() {
	local i name pid spec delay rate loss
	i=$(resolve_host "${1:-}")
	spec=${2:-}
	[[ -n $spec ]] || die "usage: scripts/lab slow HOST PROFILE (edge, wan, DELAY/RATE/LOSS, clear)"
	name=$(host_name "$i")
	[[ $(docker inspect -f '{{.State.Status}}' "$name") == running ]] || die "$name is not running: scripts/lab start $i"
	slow_clear "$i"
	if [[ $spec == clear ]]; then
		say "cleared the link shaping of $name"
		return 0
	fi
	read -r delay rate loss <<<"$(profile "$spec")"
	mkdir -p "$(netem_dir)"
	if in_host "$i" tc qdisc replace dev eth0 root netem delay "$delay" rate "$rate" loss "$loss%" 2>/dev/null; then
		say "slowed $name: netem delay $delay, rate $rate, loss $loss%"
	else
		in_host "$i" tc qdisc replace dev eth0 root tbf rate "$rate" burst 64kb latency 2s ||
			die "tc tbf on $name failed"
		build_static_tool "$NETEM_SRC" "$LAB_STATE/bin/lab-netem"
		local log
		log=$(netem_dir)/$i.log
		setsid nohup "$LAB_STATE/bin/lab-netem" -queue "$(netem_queue "$(host_ip "$i")")" \
			-delay "$delay" -loss "$loss" >"$log" 2>&1 </dev/null 9>&- &
		echo $! >"$(netem_dir)/$i.pid"
		for _ in $(seq 1 50); do grep -q 'lab-netem: queue' "$log" && break; sleep 0.1; done
		grep -q 'lab-netem: queue' "$log" || die "the delayer for $name did not start: $(cat "$log")"
		netem_rule ADD "$i"
		say "slowed $name: delay $delay and loss $loss% (lab-netem; no netem qdisc in this kernel), rate $rate (tbf)"
	fi
	echo "$spec" >"$(netem_dir)/$i.profile"
}
