# The lab host image: a Debian root fs made with debootstrap from Debian's
# packages, imported as a local image and cached by the hash of its recipe
# (this file, rootfs/ and the runc wrapper's source), so it is built once per
# machine. The debootstrap output (the slow part) is kept as a tarball keyed by
# suite and package list alone, so a change to the rest costs seconds.
# shellcheck shell=bash

IMAGE_SUITE=bookworm
IMAGE_PACKAGES=sudo,systemd,systemd-sysv,dbus,openssh-server,iproute2,iptables,kmod,procps,ca-certificates,conntrack,ethtool,socat,iputils-ping,curl,udev
# Units that make no sense in a container (as kind does): devices, consoles,
# kernel file systems, first-boot prompts, timers that would reach the internet.
IMAGE_MASK=(
	systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
	systemd-udev-trigger.service systemd-udev-settle.service systemd-hwdb-update.service
	getty.target console-getty.service getty@tty1.service serial-getty@.service
	systemd-firstboot.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount
	proc-sys-fs-binfmt_misc.mount sys-kernel-config.mount sys-kernel-debug.mount
	sys-kernel-tracing.mount sys-fs-fuse-connections.mount systemd-journald-audit.socket
	apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer
	systemd-remount-fs.service
)

image_recipe_files() {
	(
		cd "$REPO_ROOT" || exit 1
		printf '%s\n' scripts/lab.d/image.sh
		find scripts/lab.d/rootfs -type f
		find test/lab/runc-wrapper -maxdepth 1 -name '*.go' ! -name '*_test.go'
	) | LC_ALL=C sort
}

image_ref() {
	local f hash
	hash=$(cd "$REPO_ROOT" && for f in $(image_recipe_files); do
		printf '%s %s\n' "$f" "$(stat -c %a "$f")"
		cat "$f"
	done | sha256sum | cut -c1-12)
	echo "edgeops-lab-host:$hash"
}

debian_mirror() {
	local m
	m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
	[[ -z $m ]] && m=$(awk '$1=="deb" && $3 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
	echo "${m:-http://deb.debian.org/debian}"
}

ensure_image() {
	IMAGE=$(image_ref)
	docker image inspect "$IMAGE" >/dev/null 2>&1 && return 0
	with_lock image build_image "$IMAGE"
}

# base_tar prints the cached debootstrap tarball, making it when missing.
base_tar() {
	local key tar log mirror start=$SECONDS
	key=$(printf '%s %s %s\n' "$IMAGE_SUITE" "$IMAGE_PACKAGES" minbase | sha256sum | cut -c1-12)
	tar=$LAB_STATE/base/debootstrap-$key.tar
	if [[ -f $tar ]]; then
		echo "$tar"
		return 0
	fi
	command -v debootstrap >/dev/null || apt_install debootstrap
	mkdir -p "$LAB_STATE/base"
	local dir=$LAB_STATE/base/rootfs-$key
	log=$LAB_STATE/base/debootstrap-$key.log
	mirror=$(debian_mirror)
	rm -rf "$dir"
	say "debootstrap $IMAGE_SUITE from $mirror (cold: a few minutes; log $log)"
	debootstrap --variant=minbase --include="$IMAGE_PACKAGES" "$IMAGE_SUITE" "$dir" "$mirror" >"$log" 2>&1 ||
		die "debootstrap from $mirror failed: see $log"
	tar -C "$dir" --numeric-owner -cf "$tar.tmp" . || die "packing $dir failed"
	mv -f "$tar.tmp" "$tar"
	rm -rf "$dir"
	find "$LAB_STATE/base" -maxdepth 1 -name 'debootstrap-*.tar' ! -name "$(basename "$tar")" -delete
	say "debootstrap done in $((SECONDS - start)) s"
	echo "$tar"
}

build_image() {
	local image=$1 work rootfs base start=$SECONDS
	docker image inspect "$image" >/dev/null 2>&1 && return 0 # built by another lab while we waited
	base=$(base_tar)
	work=$LAB_STATE/build/${image#*:}
	rootfs=$work/rootfs
	rm -rf "$work" && mkdir -p "$rootfs"
	say "building host image $image"
	tar -C "$rootfs" --numeric-owner -xf "$base" || die "unpacking $base failed"
	configure_rootfs "$rootfs"
	say "importing the root fs ($(du -sh "$rootfs" | cut -f1))"
	tar -C "$rootfs" --numeric-owner -cf - . |
		docker import --change 'ENTRYPOINT ["/sbin/init"]' --change 'ENV container=docker' \
			--change "LABEL $LAB_LABEL.recipe=${image#*:}" - "$image" >/dev/null ||
		die "docker import of $rootfs failed"
	rm -rf "$work"
	say "host image $image built in $((SECONDS - start)) s"
	# Older recipes' images, unless a host still uses them.
	docker images --format '{{.Repository}}:{{.Tag}}' "${image%%:*}" | grep -vx "$image" |
		xargs -r docker image rm >/dev/null 2>&1 || true
}

configure_rootfs() {
	local r=$1
	cp -a "$REPO_ROOT/scripts/lab.d/rootfs/." "$r/"
	build_static_tool "$RUNC_WRAPPER_SRC" "$r/usr/local/sbin/runc-lab"
	chmod 0755 "$r/usr/local/sbin/runc-lab"
	# Host keys and machine-id are per host: made at first boot / at create.
	rm -f "$r"/etc/ssh/ssh_host_*
	: >"$r/etc/machine-id"
	rm -f "$r/var/lib/dbus/machine-id" "$r/usr/local/sbin/runc-lab.src"
	install -d -m 0700 "$r/root/.ssh"
	# systemd's default sysctls would be applied machine-wide by a privileged host.
	rm -f "$r"/usr/lib/sysctl.d/50-*.conf
	chroot "$r" systemctl mask "${IMAGE_MASK[@]}" >/dev/null 2>&1 || die "masking units in the image failed"
	chroot "$r" systemctl enable lab-hostkeys.service lab-resolv.service ssh.service >/dev/null 2>&1 ||
		die "enabling the lab units in the image failed"
	chroot "$r" systemctl set-default multi-user.target >/dev/null 2>&1
	chroot "$r" apt-get clean
	rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/log/*.log
}
