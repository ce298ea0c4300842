package edgemanifests

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a user's edge YAML folder.
type Problem struct {
	Path    string // the folder or the file
	Problem string
	Fix     string // what to do about it
}

func (p Problem) Error() string { return p.Path + ": " + p.Problem + "; " + p.Fix }

// Problems are every problem found in a folder, reported together.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = "  " + p.Error()
	}
	return fmt.Sprintf("%d problem(s) in the edge YAML folder, nothing was applied:\n%s", len(ps), strings.Join(lines, "\n"))
}

// ReadDefaults reads the package's edge YAML (every *.yaml and *.yml in
// dir), in name order.
func ReadDefaults(dir string) ([]File, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read the package's edge YAML: %w", err)
	}
	var files []File
	for _, e := range entries {
		if e.IsDir() || !IsYAMLName(e.Name()) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read the package's edge YAML: %w", err)
		}
		files = append(files, File{Name: e.Name(), Data: data})
	}
	return files, nil
}

// ReadOverrides reads and checks a user's folder: every entry must be a
// .yaml/.yml file (symbolic links to one are followed), no two may share a
// name without the extension, and every non-empty file must parse into
// Kubernetes objects using only known placeholders. On any problem it
// returns Problems, all of them, and no files.
func ReadOverrides(dir string) ([]File, error) {
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return nil, Problems{{dir, "folder not found", "give an existing folder of edge component YAML (start one with 'edgeadm manifests --output-dir " + dir + "')"}}
	case !st.IsDir():
		return nil, Problems{{dir, "not a folder", "give a folder of edge component YAML files, not a file"}}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, Problems{{dir, "cannot be read: " + err.Error(), "make the folder readable"}}
	}
	var (
		files    []File
		problems Problems
		stems    = map[string]string{}
	)
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			problems = append(problems, Problem{p, "cannot be read: " + err.Error(), "fix or remove it"})
			continue
		case fi.IsDir():
			problems = append(problems, Problem{p, "is a folder", "only the folder's own .yaml/.yml files are used: move it out"})
			continue
		case !fi.Mode().IsRegular():
			problems = append(problems, Problem{p, "is not a regular file", "remove it"})
			continue
		case !IsYAMLName(e.Name()):
			problems = append(problems, Problem{p, "not a .yaml or .yml file", "every file in the folder is edge YAML: rename it or move it out"})
			continue
		}
		if other, dup := stems[Stem(e.Name())]; dup {
			problems = append(problems, Problem{p, "has the same name as " + other + " but for the extension", "keep one of them"})
			continue
		}
		stems[Stem(e.Name())] = e.Name()
		data, err := os.ReadFile(p)
		if err != nil {
			problems = append(problems, Problem{p, "cannot be read: " + err.Error(), "make it readable"})
			continue
		}
		for _, msg := range Check(data) {
			problems = append(problems, Problem{p, msg, "fix it, or leave the file empty to remove that component"})
		}
		files = append(files, File{Name: e.Name(), Data: data})
	}
	if len(problems) > 0 {
		return nil, problems
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, nil
}

var placeholderLike = regexp.MustCompile(`__[A-Z][A-Z0-9_]*__`)

// Check returns what is wrong with one file's content: YAML that does not
// parse, a document that is no Kubernetes object, an unknown placeholder.
// An empty file is fine: it removes a component.
func Check(data []byte) []string {
	var msgs []string
	known := map[string]bool{}
	var names []string
	for _, p := range Placeholders() {
		known[p.Name] = true
		names = append(names, p.Name)
	}
	seen := map[string]bool{}
	for _, m := range placeholderLike.FindAll(data, -1) {
		if !known[string(m)] && !seen[string(m)] {
			seen[string(m)] = true
			msgs = append(msgs, fmt.Sprintf("unknown placeholder %s (known: %s)", m, strings.Join(names, ", ")))
		}
	}
	docs, err := documents(data)
	if err != nil {
		return append(msgs, "does not parse as YAML: "+err.Error())
	}
	for i, d := range docs {
		if msg := objectProblem(d); msg != "" {
			msgs = append(msgs, fmt.Sprintf("document %d (line %d) %s", i+1, d.Line, msg))
		}
	}
	return msgs
}

// Empty reports whether a file holds no YAML content (only blanks,
// comments and document separators): the way to remove a component.
func Empty(data []byte) bool {
	docs, err := documents(data)
	return err == nil && len(docs) == 0
}

// documents decodes every non-empty YAML document.
func documents(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			continue
		}
		docs = append(docs, n.Content[0])
	}
}

// objectProblem says why a document is no Kubernetes object, or "".
func objectProblem(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return "is not a mapping: every document must be a Kubernetes object (apiVersion, kind, metadata)"
	}
	var missing []string
	for _, key := range []string{"apiVersion", "kind"} {
		if v := mapValue(n, key); v == nil || v.Kind != yaml.ScalarNode || v.Value == "" {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		return "has no " + strings.Join(missing, " and ") + ": every document must be a Kubernetes object"
	}
	return ""
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
