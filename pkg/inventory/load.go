package inventory

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Load reads the inventory at path, fills in defaults, makes local paths
// absolute (relative ones are relative to the file's folder) and validates
// everything. Every problem comes back at once as a *ValidationError. With an
// error, the inventory returned (possibly nil) is what could be decoded, for
// tools such as shell completion: never act on it.
func Load(path string) (*Inventory, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, &ValidationError{File: path, Errors: []*FieldError{{
			File: path, Problem: "cannot read the inventory: " + readProblem(err),
			Expected: "a readable hosts.yaml (pass it with -i)",
		}}}
	}
	return Parse(data, abs)
}

// Parse is Load for bytes already read; path names the file in errors and
// anchors relative paths.
func Parse(data []byte, path string) (*Inventory, error) {
	c := newCollector(path)
	root, ok := parseDocument(data, c)
	if !ok {
		return nil, c.result()
	}
	w := &schemaWalker{c: c, aliases: map[aliasKey]bool{}, secrets: secretKeys()}
	w.walk(root, reflect.TypeOf(Inventory{}), "")

	inv := &Inventory{}
	if err := root.Decode(inv); err != nil && len(c.errs) == 0 {
		// The walker should have named every decode problem; keep the rest anyway.
		c.errs = append(c.errs, decodeErrors(path, err)...)
	}
	inv.File = path
	v := &validator{inv: inv, c: c}
	v.explicitZeros() // before defaults fill the zeros in
	inv.ApplyDefaults()
	v.validate()
	return inv, c.result()
}

// parseDocument returns the top mapping of the one YAML document in data.
func parseDocument(data []byte, c *collector) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			c.errs = append(c.errs, &FieldError{File: c.file, Problem: "the file is empty",
				Expected: "an inventory with cluster, ssh and hosts (see examples/)"})
		} else {
			c.errs = append(c.errs, syntaxError(c.file, err))
		}
		return nil, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		fe := &FieldError{File: c.file, Line: extra.Line, Problem: "a second YAML document",
			Expected: "one document (remove the extra ---)"}
		if err != nil {
			fe = syntaxError(c.file, err)
		}
		c.errs = append(c.errs, fe)
		return nil, false
	}
	if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null") {
		c.errs = append(c.errs, &FieldError{File: c.file, Line: doc.Line, Problem: "the file is empty",
			Expected: "an inventory with cluster, ssh and hosts (see examples/)"})
		return nil, false
	}
	root := doc.Content[0]
	c.lines[""] = root.Line
	return root, true
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func syntaxError(file string, err error) *FieldError {
	msg := err.Error()
	fe := &FieldError{File: file, Expected: "valid YAML"}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		fe.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	fe.Problem = "YAML syntax error: " + strings.TrimPrefix(msg, "yaml: ")
	return fe
}

func decodeErrors(file string, err error) []*FieldError {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []*FieldError{syntaxError(file, err)}
	}
	out := make([]*FieldError, 0, len(te.Errors))
	for _, s := range te.Errors {
		out = append(out, syntaxError(file, errors.New(s)))
	}
	return out
}

// result is nil when nothing was found, else a *ValidationError sorted by line.
func (c *collector) result() error {
	if len(c.errs) == 0 {
		return nil
	}
	sort.SliceStable(c.errs, func(i, j int) bool {
		li, lj := c.errs[i].Line, c.errs[j].Line
		if li == 0 || lj == 0 {
			return li != 0 && lj == 0
		}
		return li < lj
	})
	return &ValidationError{File: c.file, Errors: c.errs}
}

// Validate checks an inventory built or changed in code (Load already did).
// Call ApplyDefaults first. Errors carry field paths but no lines.
func (inv *Inventory) Validate() error {
	c := newCollector(inv.File)
	(&validator{inv: inv, c: c}).validate()
	return c.result()
}

func readProblem(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
