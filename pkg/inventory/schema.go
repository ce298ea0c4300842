package inventory

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// collector gathers problems and remembers where each field sits in the file,
// so that checks made after decoding can still name a line.
type collector struct {
	file  string
	errs  []*FieldError
	lines map[string]int  // field path -> line of its value (or of its key)
	bad   map[string]bool // field paths that already have a schema error
}

func newCollector(file string) *collector {
	return &collector{file: file, lines: map[string]int{}, bad: map[string]bool{}}
}

func (c *collector) add(field, value, problem, expected string) {
	c.errs = append(c.errs, &FieldError{
		File: c.file, Line: c.lineOf(field), Field: field,
		Value: echoable(field, value), Problem: problem, Expected: expected,
	})
}

// noEchoFields hold values an error must never show: kubeadm args may carry
// a token or key ("--token=…", or the value alone in the next element).
var noEchoFields = []string{"cluster.kubeadm.initArgs", "cluster.kubeadm.joinArgs"}

// notAFlag stands for a kubeadm arg that is a value, not a flag: the value
// itself is not shown.
const notAFlag = "(a value, not a flag)"

var flagNameRE = regexp.MustCompile(`^--[a-z0-9][a-z0-9-]*$`)

// echoable is value as an error may show it for field: under noEchoFields
// only a bare flag name (--token) or notAFlag, else nothing.
func echoable(field, value string) string {
	for _, p := range noEchoFields {
		if field == p || strings.HasPrefix(field, p+"[") {
			if value == notAFlag || flagNameRE.MatchString(value) {
				return value
			}
			return ""
		}
	}
	return value
}

// lineOf is the line of field, or of its nearest parent that is in the file.
func (c *collector) lineOf(field string) int {
	for p := field; p != ""; p = parentPath(p) {
		if l, ok := c.lines[p]; ok {
			return l
		}
	}
	return c.lines[""]
}

// explicit reports whether field was written in the file.
func (c *collector) explicit(field string) bool {
	_, ok := c.lines[field]
	return ok
}

// suppressed reports whether field (or a parent) already failed the schema
// check; its decoded value is then a zero value not worth judging again.
func (c *collector) suppressed(field string) bool {
	for p := field; p != ""; p = parentPath(p) {
		if c.bad[p] {
			return true
		}
	}
	return false
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// secretKeys are keys people write by habit that would put a secret in the file.
func secretKeys() map[string]bool {
	return map[string]bool{"password": true, "sudoPassword": true, "privateKey": true, "passphrase": true, "token": true}
}

type aliasKey struct {
	n *yaml.Node
	t reflect.Type
}

// schemaWalker checks a YAML tree against the Go types: unknown or duplicate
// keys, wrong node kinds and scalars that do not fit (an "abc" port).
type schemaWalker struct {
	c       *collector
	aliases map[aliasKey]bool
	secrets map[string]bool
}

func (w *schemaWalker) schemaErr(n *yaml.Node, field, value, problem, expected string) {
	w.c.errs = append(w.c.errs, &FieldError{
		File: w.c.file, Line: n.Line, Field: field, Value: echoable(field, value), Problem: problem, Expected: expected,
	})
	w.c.bad[field] = true
}

func (w *schemaWalker) walk(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode {
		// Each anchor is checked once per type: nested aliases cannot blow up the walk.
		k := aliasKey{n.Alias, t}
		if n.Alias == nil || w.aliases[k] {
			return
		}
		w.aliases[k] = true
		w.walk(n.Alias, t, path)
		return
	}
	if _, ok := w.c.lines[path]; !ok {
		w.c.lines[path] = n.Line
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		w.walkStruct(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.schemaErr(n, path, scalarValue(n), "wrong type "+nodeKind(n), "a list")
			return
		}
		for i, item := range n.Content {
			w.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		w.walkMap(n, t, path)
	case reflect.String, reflect.Int, reflect.Bool:
		w.walkScalar(n, t, path)
	default:
		w.schemaErr(n, path, "", "unsupported field type "+t.String(), "")
	}
}

func (w *schemaWalker) walkScalar(n *yaml.Node, t reflect.Type, path string) {
	want := map[reflect.Kind]string{reflect.String: "a string", reflect.Int: "an integer", reflect.Bool: "true or false"}[t.Kind()]
	if n.Kind != yaml.ScalarNode {
		w.schemaErr(n, path, "", "wrong type "+nodeKind(n), want)
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		// Most scalars decode into a string, but not one tagged as
		// something it is not (!!int "abc"). Left as it is, that tag would
		// stop decoding the whole file, and yaml's message shows the value.
		// As null it decodes to the zero value, which is not judged again.
		if t.Kind() == reflect.String {
			want += " (without the " + n.Tag + " tag)"
		}
		w.schemaErr(n, path, n.Value, "invalid", want)
		n.Tag, n.Value, n.Style = "!!null", "", 0
	}
}

func (w *schemaWalker) walkMap(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.schemaErr(n, path, scalarValue(n), "wrong type "+nodeKind(n), "a mapping of key: value")
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			w.schemaErr(k, path, "", "key is a "+nodeKind(k), "a plain string key")
			continue
		}
		child := joinPath(path, k.Value)
		if prev, dup := seen[k.Value]; dup {
			w.schemaErr(k, child, k.Value, "duplicate key", fmt.Sprintf("each key once (first at line %d)", prev))
			continue
		}
		seen[k.Value] = k.Line
		w.c.lines[child] = k.Line
		w.walk(v, t.Elem(), child)
	}
}

func (w *schemaWalker) walkStruct(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.schemaErr(n, path, scalarValue(n), "wrong type "+nodeKind(n), "a mapping with fields "+strings.Join(fieldNames(t), ", "))
		return
	}
	fields := fieldTypes(t)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			w.schemaErr(k, path, "", "key is a "+nodeKind(k), "a plain string key")
			continue
		}
		name := k.Value
		if name == "<<" { // merge key: the merged mappings are fields of this one
			w.walkMerge(v, t, path)
			continue
		}
		child := joinPath(path, name)
		if prev, dup := seen[name]; dup {
			w.schemaErr(k, child, name, "duplicate key", fmt.Sprintf("each key once (first at line %d)", prev))
			continue
		}
		seen[name] = k.Line
		ft, known := fields[name]
		switch {
		case !known && w.secrets[name]:
			// Never echo the value: it is the secret.
			w.schemaErr(k, child, "", "a "+name+" written in plain text is not allowed",
				secretHint(name))
			continue
		case !known:
			w.schemaErr(k, child, name, "unknown field", knownFieldHint(name, t))
			continue
		}
		w.c.lines[child] = k.Line
		w.walk(v, ft, child)
	}
}

func (w *schemaWalker) walkMerge(v *yaml.Node, t reflect.Type, path string) {
	switch v.Kind {
	case yaml.SequenceNode:
		for _, item := range v.Content {
			w.walk(item, t, path)
		}
	default:
		w.walk(v, t, path)
	}
}

func secretHint(name string) string {
	switch name {
	case "password", "sudoPassword":
		return "passwordEnv: VARIABLE (an environment variable that holds it) or passwordFile: PATH (a file of mode 0600 that holds it)"
	case "privateKey", "passphrase":
		return "identityFiles: [PATH] (a key file of mode 0600) or useAgent: true"
	default:
		return "no secret in the inventory: edgeops mints and passes join tokens itself"
	}
}

// fieldTypes maps yaml keys to field types for a struct.
func fieldTypes(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := yamlName(f)
		if name == "" {
			continue
		}
		out[name] = f.Type
	}
	return out
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if n := yamlName(t.Field(i)); n != "" {
			names = append(names, n)
		}
	}
	return names
}

func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

// knownFieldHint suggests the closest known key, then lists them all.
func knownFieldHint(name string, t reflect.Type) string {
	names := fieldNames(t)
	best, bestDist := "", 3
	for _, n := range names {
		if strings.EqualFold(n, name) {
			best, bestDist = n, 0
			break
		}
		if d := editDistance(strings.ToLower(n), strings.ToLower(name)); d < bestDist {
			best, bestDist = n, d
		}
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	hint := "one of " + strings.Join(sorted, ", ")
	if best != "" {
		hint = strconv.Quote(best) + " (did you mean it?); known fields: " + strings.Join(sorted, ", ")
	}
	return hint
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	default:
		return "scalar"
	}
}

func scalarValue(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}
