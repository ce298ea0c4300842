# shellcheck shell=bash
# Sourced by scripts: the default Kubernetes version and package name, read
# from bundles/versions.yaml (the one place the version is spelled).

_versions_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# default_kubernetes_version prints kubernetes.version, e.g. v1.37.2.
default_kubernetes_version() {
	awk '/^kubernetes:/ {k = 1; next} k && /^[^ #]/ {k = 0} k && $1 == "version:" {print $2; exit}' \
		"$_versions_root/bundles/versions.yaml"
}

# default_bundle prints the default package's path, relative to the repository root.
default_bundle() {
	echo "_output/edgeops-bundle-$(default_kubernetes_version)-linux-amd64.tar.gz"
}
