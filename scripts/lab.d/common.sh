# Shared settings and helpers for scripts/lab. Sourced, not run.
# shellcheck shell=bash disable=SC2034,SC2153 # sourced together: variables cross files

LAB_NAME=${LAB_NAME:-edgeops-lab}
LAB_SUBNET=${LAB_SUBNET:-172.28.0.0/24}
LAB_DIR=$(realpath -m "${LAB_DIR:-$REPO_ROOT/lab}")
# Machine-wide state shared by every lab: the lab's own dockerd data root,
# the built runc wrapper and the image build lock.
LAB_STATE=${LAB_STATE:-/var/lib/edgeops-lab}
LAB_LABEL=edgeops.lab
export PATH="/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

say() { printf '%s lab[%s]: %s\n' "$(date -u +%H:%M:%S)" "$LAB_NAME" "$*" >&2; }
die() { printf 'lab[%s]: error: %s\n' "$LAB_NAME" "$*" >&2; exit 1; }

# validate_name keeps LAB_NAME usable as a docker name and a hostname prefix.
validate_name() {
	[[ $LAB_NAME =~ ^[a-z0-9][a-z0-9-]{0,40}$ ]] ||
		die "LAB_NAME '$LAB_NAME' must be lowercase letters, digits and '-', at most 41 characters"
}

# subnet_parse sets NET_PREFIX (first three octets), NET_GW (.1) from LAB_SUBNET.
subnet_parse() {
	local addr=${LAB_SUBNET%/*} bits=${LAB_SUBNET#*/}
	[[ $LAB_SUBNET =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.0/([0-9]{1,2})$ ]] ||
		die "LAB_SUBNET '$LAB_SUBNET' must look like 172.28.0.0/24 (network address ending in .0)"
	((bits >= 16 && bits <= 24)) || die "LAB_SUBNET '$LAB_SUBNET': prefix length must be between 16 and 24"
	NET_PREFIX=${addr%.*}
	NET_GW=$NET_PREFIX.1 # used by net.sh
}

host_ip() { echo "$NET_PREFIX.$((10 + $1))"; }
host_name() { echo "$LAB_NAME-$1"; }
volume_name() { echo "$LAB_NAME-$1-containerd"; }

# lab_hosts prints the indexes of this lab's containers, in order.
lab_hosts() {
	docker ps -a --filter "label=$LAB_LABEL=$LAB_NAME" --format '{{.Label "edgeops.lab.index"}}' 2>/dev/null | sort -n
}

# resolve_host turns an index, a container/host name or an IP into an index.
resolve_host() {
	local want=$1 i
	[[ -n $want ]] || die "which host? give its index (1), name ($(host_name 1)) or address ($(host_ip 1))"
	for i in $(lab_hosts); do
		if [[ $want == "$i" || $want == "$(host_name "$i")" || $want == "$(host_ip "$i")" ]]; then
			echo "$i"
			return
		fi
	done
	die "no host '$want' in lab $LAB_NAME (see: scripts/lab status)"
}

# with_lock runs "$@" holding an exclusive lock on $LAB_STATE/$1.lock (fd 9:
# daemons started inside must close it, or they would hold the lock forever).
with_lock() {
	local name=$1
	shift
	mkdir -p "$LAB_STATE"
	(
		flock -w 900 9 || die "waited 15 min for $LAB_STATE/$name.lock: another lab command holds it (see: lsof $LAB_STATE/$name.lock)"
		"$@"
	) 9>"$LAB_STATE/$name.lock"
}

# lab_ssh runs a command on host index $1 with the lab key and known_hosts.
lab_ssh() {
	local i=$1
	shift
	ssh -i "$LAB_DIR/key" -o UserKnownHostsFile="$LAB_DIR/known_hosts" -o StrictHostKeyChecking=yes \
		-o BatchMode=yes -o ConnectTimeout=3 -o LogLevel=ERROR "root@$(host_ip "$i")" "$@"
}
