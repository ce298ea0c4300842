# slow HOST PROFILE: shape a host's link, both directions (latency, bandwidth, loss).
# Uses tc netem where the kernel has it. The lab machines' kernel has no netem
# qdisc, so there:
# - bandwidth: tbf in the host on eth0 (what it sends) and tbf on the host's
#   veth peer on this machine (what it receives);
# - delay and loss: two lab-netem delayers (test/lab/netem), each fed by an
#   NFQUEUE rule with --queue-bypass. What the host sends: this machine's mangle
#   PREROUTING (-s IP). What it receives: the host's own mangle PREROUTING
#   (-i eth0; the delayer runs in the host's network namespace). Each holds a
#   packet half the profile's delay, so a round trip takes the whole delay
#   longer, and drops the profile's share of packets, in each direction.
# Packets are delayed only after they crossed the veth: before that they are
# still charged to the sending socket, and TCP Small Queues would cap a stream
# at a few packets per delay (measured: 0.4 Mbit/s when this machine's outgoing
# packets were held in its OUTPUT chain).
# shellcheck shell=bash

NETEM_SRC=$REPO_ROOT/test/lab/netem

# netem_queue IP: an NFQUEUE number for this address (queues are machine-wide).
netem_queue() {
	local c d
	IFS=. read -r _ _ c d <<<"$1"
	echo $(((c * 256 + d) % 65536))
}

# netem_rule ADD|DEL I: the rule handing the packets host I sends to its delayer here.
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

# host_pid I: host I's init process on this machine (for nsenter into its network namespace).
host_pid() { docker inspect -f '{{.State.Pid}}' "$(host_name "$1")"; }

# inbound_rule ADD|DEL I: the rule in host I's own mangle PREROUTING handing the
# packets it receives to its inbound delayer (queue 1 of the host's namespace).
# The namespace, and with it the rule, goes away with the host.
inbound_rule() {
	local pid
	pid=$(host_pid "$2") || return 0
	[[ $pid -gt 0 ]] || return 0
	local spec=(-i eth0 -m comment --comment "edgeops-lab:$LAB_NAME:slow-in" -j NFQUEUE --queue-num 1 --queue-bypass)
	if nsenter -t "$pid" -n iptables -w -t mangle -C PREROUTING "${spec[@]}" 2>/dev/null; then
		[[ $1 == DEL ]] && nsenter -t "$pid" -n iptables -w -t mangle -D PREROUTING "${spec[@]}"
	else
		[[ $1 == ADD ]] && { nsenter -t "$pid" -n iptables -w -t mangle -I PREROUTING 1 "${spec[@]}" || die "iptables in $(host_name "$2"): cannot add the inbound NFQUEUE rule"; }
	fi
	return 0
}

# start_delayer ID QUEUE DELAY LOSS [NSENTER...]: one lab-netem, its pid in $(netem_dir)/ID.pid.
start_delayer() {
	local id=$1 queue=$2 delay=$3 loss=$4 log
	shift 4
	log=$(netem_dir)/$id.log
	setsid nohup "$@" "$LAB_STATE/bin/lab-netem" -queue "$queue" -delay "$delay" -loss "$loss" \
		>"$log" 2>&1 </dev/null 9>&- &
	echo $! >"$(netem_dir)/$id.pid"
	for _ in $(seq 1 50); do grep -q 'lab-netem: queue' "$log" && break; sleep 0.1; done
	grep -q 'lab-netem: queue' "$log" || die "a delayer ($id) did not start: $(cat "$log")"
}

# half_delay DELAY: half of a tc-style delay (80ms, 500us, 1s), in microseconds (40000us).
half_delay() {
	local n=${1%%[a-z]*} unit=${1##*[0-9]}
	case $unit in
	us) echo "$((n / 2))us" ;;
	ms) echo "$((n * 500))us" ;;
	s) echo "$((n * 500000))us" ;;
	*) die "slow: bad delay '$1'" ;;
	esac
}

# host_veth I: the name of host I's veth peer on this machine (its eth0's other end).
host_veth() {
	local idx name
	idx=$(in_host "$1" cat /sys/class/net/eth0/iflink) || die "cannot read eth0's peer index in $(host_name "$1")"
	name=$(ip -o link show | awk -F': ' -v i="$idx" '$1 == i { sub(/@.*/, "", $2); print $2 }')
	[[ -n $name ]] || die "no interface with index $idx on this machine (the veth peer of $(host_name "$1"))"
	echo "$name"
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

# netem_stop_one ID ends one delayer (only the process we started: pid file + its command line).
netem_stop_one() {
	local f pid
	f=$(netem_dir)/$1.pid
	[[ -f $f ]] || return 0
	pid=$(cat "$f")
	if netem_pid_ok "$pid"; then
		kill "$pid" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do netem_pid_ok "$pid" || break; sleep 0.1; done
	fi
	rm -f "$f"
}

# netem_stop I ends host I's delayers, outbound and inbound.
netem_stop() {
	netem_stop_one "$1"
	netem_stop_one "$1.in"
	rm -f "$(netem_dir)/$1.profile"
}

netem_stop_all() {
	local dir f
	dir=$(netem_dir)
	[[ -d $dir ]] || return 0
	for f in "$dir"/*.pid; do
		[[ -e $f ]] && netem_stop_one "$(basename "$f" .pid)"
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
	tc qdisc del dev "$(host_veth "$i")" root 2>/dev/null || true
	netem_rule DEL "$i"
	inbound_rule DEL "$i"
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
	local veth
	veth=$(host_veth "$i")
	if in_host "$i" tc qdisc replace dev eth0 root netem delay "$(half_delay "$delay")" rate "$rate" loss "$loss%" 2>/dev/null; then
		tc qdisc replace dev "$veth" root netem delay "$(half_delay "$delay")" rate "$rate" loss "$loss%" ||
			die "tc netem on $veth (the peer of $name's eth0) failed"
		say "slowed $name both ways: round trip +$delay, rate $rate and loss $loss% each way (netem in the host and on $veth)"
	else
		# tbf's queue: 400 ms at the rate, like a modest router buffer.
		in_host "$i" tc qdisc replace dev eth0 root tbf rate "$rate" burst 64kb latency 400ms ||
			die "tc tbf on $name failed"
		tc qdisc replace dev "$veth" root tbf rate "$rate" burst 64kb latency 400ms ||
			die "tc tbf on $veth (the peer of $name's eth0) failed"
		build_static_tool "$NETEM_SRC" "$LAB_STATE/bin/lab-netem"
		local half
		half=$(half_delay "$delay")
		start_delayer "$i" "$(netem_queue "$(host_ip "$i")")" "$half" "$loss"
		start_delayer "$i.in" 1 "$half" "$loss" nsenter -t "$(host_pid "$i")" -n
		netem_rule ADD "$i"
		inbound_rule ADD "$i"
		say "slowed $name both ways: round trip +$delay and loss $loss% each way (lab-netem; no netem qdisc in this kernel), rate $rate each way (tbf in the host and on $veth)"
	fi
	echo "$spec" >"$(netem_dir)/$i.profile"
}
