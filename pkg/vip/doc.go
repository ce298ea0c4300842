// Package vip is edge-vip (cmd/edge-vip; paths and names in pkg/contract):
// the control plane's virtual IP on the masters.
//
// Every master runs it against its own API server only, so a master whose
// API server is down can never win. The instances elect a holder with a
// coordination.k8s.io Lease (client-go leader election, manager.go); the
// holder adds the address as a /32 to its interface (addr.go, iface.go) and
// announces it with gratuitous ARP (garp.go), 3 times at start and every
// 10 s while holding (holder.go).
//
// Split brain is guarded on the holder's side: every successful write of
// the Lease is timed (lock.go) and the address goes away as soon as the
// last one is older than RenewDeadline, which is shorter than the
// LeaseDuration the others must wait before they can take over; a release
// (clean stop) removes the address before the Lease is handed back. The
// lock also shows client-go every renewal, not one per second (lock.go),
// so the others do wait a full LeaseDuration after the last one.
//
// An address found on the interface at start (put there by "edge-vip
// announce" on the first master before its API server exists, or left by
// a restart while holding) is kept until this instance leads or another
// holder is seen; it is dropped too when the API server stays unreachable
// for 3 lease durations (holder.go).
//
// /healthz and /status (JSON) are served on a local address (status.go).
package vip
