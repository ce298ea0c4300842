# ensure-docker: a working Docker engine. Uses one that runs; otherwise installs
# docker.io from Debian and starts the lab's own dockerd with its own data root
# and the runc wrapper as default runtime (no process here may hold
# CAP_SYS_RESOURCE, which plain runc needs for --privileged).
# shellcheck shell=bash

RUNC_WRAPPER_SRC=$REPO_ROOT/test/lab/runc-wrapper

# build_static_tool builds a stdlib-only Go command from $1 into $2.
build_static_tool() {
	local src=$1 out=$2
	local sum
	sum=$(cat "$src"/*.go | sha256sum | cut -c1-16)
	[[ -x $out && -f $out.src && $(cat "$out.src") == "$sum" ]] && return 0
	command -v go >/dev/null || die "Go is needed to build $(basename "$out") (expected at /usr/local/go/bin/go)"
	mkdir -p "$(dirname "$out")"
	# Build outside the module so that go.mod being edited by others never matters.
	local tmp
	tmp=$(mktemp -d)
	find "$src" -maxdepth 1 -name '*.go' ! -name '*_test.go' -exec cp {} "$tmp/" \;
	printf 'module labtool\n\ngo 1.25\n' >"$tmp/go.mod"
	# Go needs a build cache; CI may run with no HOME.
	[[ -n ${GOCACHE:-} || -n ${HOME:-} || -n ${XDG_CACHE_HOME:-} ]] || export GOCACHE=$LAB_STATE/gocache
	(cd "$tmp" && CGO_ENABLED=0 GOFLAGS="" GOWORK=off go build -trimpath -ldflags='-s -w' -o "$out.tmp" .) ||
		{ rm -rf "$tmp"; die "building $src failed"; }
	rm -rf "$tmp"
	mv -f "$out.tmp" "$out"
	[[ $out != "$LAB_STATE/bin/"* ]] || echo "$sum" >"$out.src"
}

apt_install() {
	say "installing $* from Debian's packages"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q --no-install-recommends "$@" >"$LAB_STATE/apt.log" 2>&1; then
		apt-get update -q >>"$LAB_STATE/apt.log" 2>&1 || die "apt-get update failed: see $LAB_STATE/apt.log"
		apt-get install -y -q --no-install-recommends "$@" >>"$LAB_STATE/apt.log" 2>&1 ||
			die "apt-get install $* failed: see $LAB_STATE/apt.log"
	fi
}

docker_works() { timeout 10 docker info >/dev/null 2>&1; }

# runtime_flag prints the docker run flag that selects the runc wrapper when
# the engine has it registered but not as its default.
runtime_flag() {
	local info
	info=$(docker info --format '{{.DefaultRuntime}} {{range $k, $v := .Runtimes}}{{$k}} {{end}}' 2>/dev/null) || return 0
	# shellcheck disable=SC2086 # split the runtime names
	set -- $info
	local def=$1
	shift
	[[ $def == runc-lab ]] && return 0
	for r; do [[ $r == runc-lab ]] && echo "--runtime=runc-lab" && return 0; done
	return 0
}

start_own_dockerd() {
	mkdir -p "$LAB_STATE/bin" "$LAB_STATE/docker"
	if ! command -v dockerd >/dev/null || ! command -v iptables >/dev/null; then
		# policy-rc.d keeps the package from starting a daemon with default settings.
		local policy=/usr/sbin/policy-rc.d made_policy=
		if [[ ! -e $policy ]]; then
			printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && made_policy=1
		fi
		apt_install docker.io iptables
		[[ -n $made_policy ]] && rm -f "$policy"
	fi
	build_static_tool "$RUNC_WRAPPER_SRC" "$LAB_STATE/bin/runc-lab"
	say "starting dockerd (data root $LAB_STATE/docker, default runtime runc-lab, log $LAB_STATE/dockerd.log)"
	setsid nohup dockerd --data-root "$LAB_STATE/docker" --pidfile "$LAB_STATE/dockerd.pid" \
		--add-runtime "runc-lab=$LAB_STATE/bin/runc-lab" --default-runtime runc-lab \
		>>"$LAB_STATE/dockerd.log" 2>&1 </dev/null 9>&- &
	for _ in $(seq 1 60); do
		docker_works && { say "dockerd is up (pid $(cat "$LAB_STATE/dockerd.pid" 2>/dev/null))"; return 0; }
		sleep 0.5
	done
	die "dockerd did not answer within 30 s: see $LAB_STATE/dockerd.log"
}

ensure_docker_locked() {
	docker_works && return 0
	# A dockerd that runs but is slow to answer (a busy machine) must not get a twin.
	local pid
	pid=$(pidof dockerd || true)
	if [[ -n $pid ]]; then
		say "dockerd (pid $pid) runs but does not answer yet; waiting up to 60 s"
		for _ in $(seq 1 60); do
			docker_works && return 0
			sleep 1
		done
		die "dockerd (pid $pid) does not answer 'docker info': see $LAB_STATE/dockerd.log (if the lab started it) or its own log"
	fi
	start_own_dockerd
}

# can_hold_sys_resource: is CAP_SYS_RESOURCE (bit 24) in this process's bounding set?
can_hold_sys_resource() {
	local bnd
	bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
	(((0x$bnd >> 24) & 1))
}

# check_privileged_possible fails early, with what to do, when the engine would
# fail every privileged host with "unable to apply caps".
check_privileged_possible() {
	can_hold_sys_resource && return 0
	local rt
	rt=$(docker info --format '{{.DefaultRuntime}} {{range $k, $v := .Runtimes}}{{$k}} {{end}}' 2>/dev/null || true)
	[[ " $rt " == *" runc-lab "* ]] && return 0
	die "the running Docker engine has no 'runc-lab' runtime, and no process here may hold CAP_SYS_RESOURCE, so it cannot start privileged lab hosts. Either stop that engine and rerun (the lab then starts its own dockerd with the wrapper), or start it with: --add-runtime runc-lab=$LAB_STATE/bin/runc-lab (built from test/lab/runc-wrapper)"
}

# raise_inotify_limits: every host's systemd, and every kubelet and containerd of
# every lab here, draw on root's one inotify budget; at the defaults containerd's
# CRI plugin fails ("too many open files") once a few hosts run.
raise_inotify_limits() {
	local key want cur
	for key in fs.inotify.max_user_instances=8192 fs.inotify.max_user_watches=524288; do
		want=${key#*=} key=${key%=*}
		cur=$(sysctl -n "$key" 2>/dev/null || echo 0)
		((cur >= want)) || sysctl -qw "$key=$want" || say "warning: could not raise $key to $want"
	done
}

cmd_ensure_docker() {
	command -v docker >/dev/null || apt_install docker.io
	if ! docker_works; then
		[[ $EUID -eq 0 ]] || die "no Docker engine answers and starting one needs root: run as root, or start Docker"
		with_lock docker ensure_docker_locked
	fi
	check_privileged_possible
	raise_inotify_limits
	# The bridge must hand its traffic to iptables: cut/heal and the lab's
	# isolation rules live in DOCKER-USER, and kubeadm checks this sysctl.
	if [[ -w /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then
		echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables
	fi
	say "docker engine ready: $(docker version --format 'server {{.Server.Version}}' 2>/dev/null), default runtime $(docker info --format '{{.DefaultRuntime}}' 2>/dev/null)"
}
