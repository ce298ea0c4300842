# Lab hosts: containers with systemd as PID 1 and sshd, on the lab network.
# shellcheck shell=bash

ensure_key() {
	mkdir -p "$LAB_DIR"
	if [[ ! -f $LAB_DIR/key ]]; then
		say "making the lab key $LAB_DIR/key (ed25519)"
		rm -f "$LAB_DIR/key.pub"
		ssh-keygen -q -t ed25519 -N '' -C "$LAB_NAME" -f "$LAB_DIR/key" || die "ssh-keygen failed"
	fi
	chmod 0600 "$LAB_DIR/key"
	[[ -f $LAB_DIR/key.pub ]] || ssh-keygen -y -f "$LAB_DIR/key" >"$LAB_DIR/key.pub"
}

# ensure_host I: the container exists and runs (created from $IMAGE if missing).
# shellcheck disable=SC2153 # IMAGE is set by ensure_image
ensure_host() {
	local i=$1 name ip vol state
	name=$(host_name "$i") ip=$(host_ip "$i") vol=$(volume_name "$i")
	state=$(docker inspect -f '{{.State.Status}}' "$name" 2>/dev/null || true)
	if [[ -z $state ]]; then
		say "creating $name at $ip"
		local runtime
		mapfile -t runtime < <(runtime_flag)
		# A new host gets a new disk: a volume left from an earlier host goes.
		docker volume rm -f "$vol" >/dev/null 2>&1 || true
		docker volume create --label "$LAB_LABEL=$LAB_NAME" "$vol" >/dev/null || die "docker volume create $vol failed"
		# --privileged needs the runc wrapper as runtime here (see docs/lab.md);
		# systemd needs its own cgroup namespace, tmpfs /run and SIGRTMIN+3 to stop.
		docker create --name "$name" --hostname "$name" \
			--label "$LAB_LABEL=$LAB_NAME" --label "$LAB_LABEL.index=$i" \
			--network "$LAB_NAME" --ip "$ip" \
			--privileged --cgroupns=private "${runtime[@]}" \
			--tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
			--stop-signal SIGRTMIN+3 -e container=docker \
			-v "$vol:/var/lib/containerd" \
			"$IMAGE" >/dev/null || die "docker create $name failed"
		# Per-host identity: kubelet needs a unique machine-id.
		local mid
		mid=$(mktemp)
		od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$mid"
		echo >>"$mid"
		chmod 0444 "$mid"
		docker cp "$mid" "$name:/etc/machine-id" || die "writing /etc/machine-id into $name failed"
		rm -f "$mid"
		state=created
	fi
	authorize_key "$name"
	local image
	image=$(docker inspect -f '{{.Config.Image}}' "$name")
	[[ $image == "$IMAGE" ]] || say "note: $name runs $image, not the current $IMAGE ('scripts/lab down' then 'up' renews it)"
	case $state in
	running) ;;
	*) docker start "$name" >/dev/null || die "docker start $name failed: see 'docker logs $name'" ;;
	esac
}

authorize_key() {
	local name=$1 tmp
	tmp=$(mktemp)
	cp "$LAB_DIR/key.pub" "$tmp"
	chmod 0600 "$tmp"
	docker cp "$tmp" "$name:/root/.ssh/authorized_keys" || die "installing the lab key into $name failed"
	rm -f "$tmp"
}

# host_key I waits for host I's first-boot SSH host key and prints a known_hosts line.
host_key() {
	local i=$1 name key
	name=$(host_name "$i")
	for _ in $(seq 1 120); do
		key=$(docker exec "$name" cat /etc/ssh/ssh_host_ed25519_key.pub 2>/dev/null || true)
		if [[ $key == ssh-ed25519* ]]; then
			echo "$(host_ip "$i") $(cut -d' ' -f1,2 <<<"$key")"
			return 0
		fi
		sleep 0.5
	done
	die "$name made no SSH host key within 60 s: see 'scripts/lab exec $i journalctl -b --no-pager'"
}

# wait_ssh I waits until root@host I answers with the lab key.
wait_ssh() {
	local i=$1
	for _ in $(seq 1 60); do
		lab_ssh "$i" true 2>/dev/null && return 0
		sleep 0.5
	done
	die "$(host_name "$i") ($(host_ip "$i")) does not answer ssh with the lab key after 30 s: try 'scripts/lab exec $i systemctl status ssh'"
}

# system_state I waits (up to 60 s) for systemd to finish booting and prints its state.
system_state() {
	local i=$1
	docker exec "$(host_name "$i")" timeout 60 systemctl is-system-running --wait 2>/dev/null || true
}

write_known_hosts() {
	local i tmp
	tmp=$(mktemp "$LAB_DIR/.known_hosts.XXXXXX")
	for i in "$@"; do host_key "$i"; done >"$tmp"
	chmod 0644 "$tmp"
	mv -f "$tmp" "$LAB_DIR/known_hosts"
}

remove_host() {
	local i=$1 name
	name=$(host_name "$i")
	say "removing $name"
	netem_rule DEL "$i"
	netem_stop "$i"
	heal_rules "$(host_ip "$i")"
	docker rm -f -v "$name" >/dev/null 2>&1 || true
	docker volume rm -f "$(volume_name "$i")" >/dev/null 2>&1 || true
}
