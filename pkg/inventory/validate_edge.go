package inventory

import (
	"errors"
	"os"

	"github.com/edgeops/edgeops/pkg/edgemanifests"
)

// edgeManifestsDir checks the user's edge YAML folder with the rules
// edgeadm applies on the host, so a bad file stops the run before any
// host is touched.
func (v *validator) edgeManifestsDir(dir string) {
	const field = "cluster.edgeManifestsDir"
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		v.localDir(field, dir)
		return
	}
	_, err := edgemanifests.ReadOverrides(dir)
	var ps edgemanifests.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			v.fail(field, p.Path, p.Problem, p.Fix)
		}
	} else if err != nil {
		v.fail(field, dir, err.Error(), "a readable folder of edge component YAML")
	}
}
