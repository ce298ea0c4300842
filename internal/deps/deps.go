// Package deps pins the third-party modules the project builds on, so that
// parallel work on different packages shares one go.mod. Remove an import
// here once a real package uses it.
package deps

import (
	_ "github.com/google/go-containerregistry/pkg/v1/tarball"
	_ "github.com/pkg/sftp"
	_ "github.com/spf13/cobra"
	_ "golang.org/x/crypto/ssh"
	_ "golang.org/x/crypto/ssh/agent"
	_ "golang.org/x/crypto/ssh/knownhosts"
	_ "golang.org/x/sync/errgroup"
	_ "sigs.k8s.io/yaml"
)
