package contract

// Paths on a cluster host that edgeops and edgeadm share (docs/CONTRACTS.md).
const (
	// EdgeadmPath is where edgeops stages the agent (0755).
	EdgeadmPath = "/usr/local/bin/edgeadm"
	// EdgeopsStateDir holds what edgeops keeps on a host (lock, staged files);
	// edgeadm reset leaves it to edgeops.
	EdgeopsStateDir = "/var/lib/edgeops"
	// PackagesDir is where edgeops stages install packages (0700, files 0600).
	PackagesDir = EdgeopsStateDir + "/packages"
	// PackageURLFile holds a package URL with a query string (a signed URL),
	// root-only, read by edgeadm's --install-pkg-path-file; never in argv.
	PackageURLFile = PackagesDir + "/url"
	// JoinInfoFile is the join information (pkg/joininfo JSON, 0600): edgeadm
	// init writes it, edgeops copies it to joining hosts, edgeadm join reads it.
	JoinInfoFile = "/etc/edgeadm/join-info.json"
)
