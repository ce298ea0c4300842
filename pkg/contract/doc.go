// Package contract holds what edgeops and edgeadm must agree on: edgeadm's
// own flag names, the host paths both programs use, and the node roles.
// Both programs import it, so a rename on one side cannot silently break
// the other. It imports nothing heavy: edgeops must stay free of kubeadm.
package contract
