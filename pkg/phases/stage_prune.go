package phases

import "strings"

// pruneCommand removes what is in the host folder dir but not in keep: a
// file the user deleted from the local edge YAML folder must stop
// overriding the package's (the upload alone only adds and replaces).
func pruneCommand(dir string, keep []string) string {
	argv := []string{"find", dir, "-mindepth", "1", "-maxdepth", "1"}
	for _, k := range keep {
		argv = append(argv, "!", "-name", globEscape(k))
	}
	return command(append(argv, "-exec", "rm", "-rf", "--", "{}", "+")...)
}

// globEscape makes a file name match itself only in find -name.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`).Replace(s)
}
