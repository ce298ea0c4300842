// Package ssh is edgeops' SSH transport: one client per host (with optional
// bastion chain), command execution with sudo and cancellation, verified and
// resumable SFTP uploads, sudo-aware downloads and local port tunnels.
//
// It is built on golang.org/x/crypto/ssh and github.com/pkg/sftp and is tested
// against real OpenSSH sshd processes (see package sshtest). docs/ssh.md
// describes the behaviour in detail.
package ssh
