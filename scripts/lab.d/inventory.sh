# Writes $LAB_DIR/hosts.yaml: an edgeops inventory (pkg/inventory schema) for the lab's hosts.
# shellcheck shell=bash

# shellcheck source=../lib/versions.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/versions.sh"
DEFAULT_BUNDLE=$(default_bundle)

# bundle_path is $EDGEOPS_BUNDLE or the default bundle, relative to $LAB_DIR
# when it lies in the repository (so the file stays valid if the clone moves).
bundle_path() {
	local b=${EDGEOPS_BUNDLE:-$REPO_ROOT/$DEFAULT_BUNDLE}
	[[ $b == /* ]] || b=$PWD/$b
	realpath -m --relative-to="$LAB_DIR" "$b"
}

# write_inventory N ROLES...: one role per host (already expanded).
write_inventory() {
	local n=$1 i tmp
	shift
	local roles=("$@")
	tmp=$(mktemp "$LAB_DIR/.hosts.yaml.XXXXXX")
	{
		echo "# Written by 'scripts/lab up' for lab $LAB_NAME ($n hosts on $LAB_SUBNET); rewritten by every 'up'."
		echo "# Paths are relative to this file. Use: edgeops up -i $(realpath -m "$LAB_DIR/hosts.yaml")"
		echo "apiVersion: edgeops.io/v1"
		echo "kind: Inventory"
		echo "cluster:"
		echo "  name: $LAB_NAME"
		echo "  installPackage:"
		echo "    path: $(bundle_path)"
		if (($(printf '%s\n' "${roles[@]}" | grep -c '^master$') > 1)); then
			# Several masters: a VIP edge-vip keeps on one of them (docs/ha.md); .100 is no lab host's.
			echo "  vip: {address: $(host_ip 90)}"
		fi
		echo "  containerRuntime:"
		echo "    # The lab's runc wrapper: no process on the lab machine may hold CAP_SYS_RESOURCE."
		echo "    runtimeBinary: /usr/local/sbin/runc-lab"
		echo "ssh:"
		echo "  user: root"
		echo "  identityFiles: [key]"
		echo "  knownHosts: known_hosts"
		echo "  hostKeyPolicy: strict"
		echo "hosts:"
		for ((i = 1; i <= n; i++)); do
			echo "  - address: $(host_ip "$i")"
			echo "    role: ${roles[i - 1]}"
		done
	} >"$tmp"
	chmod 0644 "$tmp"
	mv -f "$tmp" "$LAB_DIR/hosts.yaml"
}

# expand_roles N SPEC prints N roles: SPEC is "master,edge,worker,..."; hosts
# past the list take its last role. The default is master then edge.
expand_roles() {
	local n=$1 spec=${2:-} i r
	if [[ -z $spec ]]; then
		echo master
		for ((i = 1; i < n; i++)); do echo edge; done
		return 0
	fi
	local list
	IFS=, read -ra list <<<"$spec"
	((${#list[@]} > 0)) || die "--roles is empty: give e.g. --roles master,edge,worker"
	for r in "${list[@]}"; do
		case $r in master | edge | worker) ;; *) die "--roles: unknown role '$r' (expected master, edge or worker)" ;; esac
	done
	((${#list[@]} <= n)) || die "--roles lists ${#list[@]} roles for $n hosts"
	[[ ,$spec, == *,master,* ]] || die "--roles: at least one host must be a master (got '$spec')"
	for ((i = 0; i < n; i++)); do
		if ((i < ${#list[@]})); then echo "${list[i]}"; else echo "${list[${#list[@]} - 1]}"; fi
	done
}
