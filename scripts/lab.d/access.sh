# Access paths other than root-over-direct-ssh: non-root users with sudo, and
# bastions that the other hosts' sshd can only be reached through.
# shellcheck shell=bash

# The users every host gets with 'scripts/lab users'.
OPS_USER=ops     # sudo asks for the password in $LAB_DIR/ops.password
OPS_NP_USER=opsnp # sudo with NOPASSWD
# The bastion chain ('scripts/lab bastion'), host indexes in dialling order.
bastion_file() { echo "$LAB_DIR/bastions"; }

# ops_password prints the lab's sudo password, making it (random, 0600) once.
ops_password() {
	local f=$LAB_DIR/ops.password
	if [[ ! -s $f ]]; then
		mkdir -p "$LAB_DIR"
		(umask 077 && od -An -N18 -tx1 /dev/urandom | tr -d ' \n' >"$f.tmp" && mv -f "$f.tmp" "$f")
	fi
	chmod 0600 "$f"
	cat "$f"
}

# ensure_users I: host I has ops (sudo with a password) and opsnp (NOPASSWD),
# both logging in with the lab key. The password goes in on stdin, never argv.
ensure_users() {
	local i=$1 name
	name=$(host_name "$i")
	# shellcheck disable=SC2016 # expanded on the host
	{ ops_password && echo; } | docker exec -i "$name" sh -euc '
		read -r pw
		command -v sudo >/dev/null || { echo "sudo is missing in the host image: scripts/lab down, then up (rebuilds the image)" >&2; exit 1; }
		for u in '"$OPS_USER $OPS_NP_USER"'; do
			id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"
			install -d -m 0700 -o "$u" -g "$u" "/home/$u/.ssh"
			install -m 0600 -o "$u" -g "$u" /root/.ssh/authorized_keys "/home/$u/.ssh/authorized_keys"
		done
		printf "%s:%s\n" '"$OPS_USER"' "$pw" | chpasswd
		# opsnp gets a password too (sshd refuses locked accounts), never used.
		printf "%s:%s\n" '"$OPS_NP_USER"' "$(od -An -N18 -tx1 /dev/urandom | tr -d " \n")" | chpasswd
		umask 0227
		printf "%s ALL=(ALL:ALL) ALL\n" '"$OPS_USER"' >/etc/sudoers.d/lab-ops.tmp
		printf "%s ALL=(ALL:ALL) NOPASSWD: ALL\n" '"$OPS_NP_USER"' >>/etc/sudoers.d/lab-ops.tmp
		visudo -cqf /etc/sudoers.d/lab-ops.tmp
		mv -f /etc/sudoers.d/lab-ops.tmp /etc/sudoers.d/lab-ops
	' || die "creating the users $OPS_USER and $OPS_NP_USER on $name failed"
}

cmd_users() {
	local i any=0
	for i in $(lab_hosts); do
		ensure_users "$i"
		any=1
	done
	((any)) || die "no hosts in lab $LAB_NAME: scripts/lab up N first"
	say "users on every host: $OPS_USER (sudo password in $LAB_DIR/ops.password), $OPS_NP_USER (NOPASSWD); both log in with $LAB_DIR/key"
}

# fence I ALLOWED: host I's sshd answers only ALLOWED (an address; empty lifts
# the fence). A chain of its own, jumped to first from INPUT, so kube-proxy's
# and kubelet's rules never come before it; REJECT so that a way around the
# bastion fails at once rather than by timeout.
fence() {
	local i=$1 allowed=$2
	docker exec "$(host_name "$i")" sh -euc '
		iptables -w -N LAB-SSH 2>/dev/null || iptables -w -F LAB-SSH
		iptables -w -C INPUT -p tcp --dport 22 -j LAB-SSH 2>/dev/null || iptables -w -I INPUT 1 -p tcp --dport 22 -j LAB-SSH
		if [ -n "$1" ]; then
			iptables -w -A LAB-SSH -i lo -j RETURN
			iptables -w -A LAB-SSH -s "$1" -j RETURN
			iptables -w -A LAB-SSH -p tcp -j REJECT --reject-with tcp-reset
		fi
	' fence "$allowed" || die "iptables on $(host_name "$i") failed (fencing its sshd)"
}

# apply_bastions fences every host as $LAB_DIR/bastions says: the first bastion
# answers this machine, each next one only the one before, every other host only
# the last.
apply_bastions() {
	local f chain i prev="" last
	f=$(bastion_file)
	[[ -s $f ]] || return 0
	read -ra chain <"$f"
	for i in "${chain[@]}"; do
		fence "$i" "$prev"
		prev=$(host_ip "$i")
	done
	last=$prev
	for i in $(lab_hosts); do
		[[ " ${chain[*]} " == *" $i "* ]] && continue
		[[ $(docker inspect -f '{{.State.Status}}' "$(host_name "$i")" 2>/dev/null) == running ]] || continue
		fence "$i" "$last"
	done
}

# lift_bastions opens every running host's sshd again (the chain file stays);
# without a chain it touches no host, unless called with "all".
lift_bastions() {
	local i
	[[ ${1:-} == all || -s $(bastion_file) ]] || return 0
	for i in $(lab_hosts); do
		[[ $(docker inspect -f '{{.State.Status}}' "$(host_name "$i")" 2>/dev/null) == running ]] || continue
		fence "$i" ""
	done
}

cmd_bastion() {
	(($#)) || die "usage: scripts/lab bastion HOST [HOST2] | scripts/lab bastion clear"
	if [[ $1 == clear ]]; then
		lift_bastions all
		rm -f "$(bastion_file)"
		say "bastions cleared: every host answers ssh from this machine again"
		return 0
	fi
	(($# <= 2)) || die "at most 2 bastions (a 2-hop chain): got $*"
	local chain=() i ip
	for i in "$@"; do chain+=("$(resolve_host "$i")"); done
	((${#chain[@]} == 1)) || [[ ${chain[0]} != "${chain[1]}" ]] || die "the two bastions must be different hosts (got $1 twice)"
	echo "${chain[*]}" >"$(bastion_file)"
	write_ssh_config
	lift_bastions all
	apply_bastions
	local desc=""
	for i in "${chain[@]}"; do
		ip=$(host_ip "$i")
		desc+="${desc:+ -> }$(host_name "$i") ($ip)"
	done
	say "bastion chain: this machine -> $desc -> the other hosts (their sshd refuses every other source)"
}

# write_ssh_config: $LAB_DIR/ssh_config for plain OpenSSH through the chain
# (-J does not pass -o options on to the jump hosts; a config file does).
write_ssh_config() {
	printf 'Host *\n  IdentityFile %s\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  BatchMode yes\n  ConnectTimeout 5\n  LogLevel ERROR\n' \
		"$LAB_DIR/key" "$LAB_DIR/known_hosts" >"$LAB_DIR/ssh_config"
}
