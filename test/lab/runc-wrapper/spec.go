package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

const dropCap = "CAP_SYS_RESOURCE"

// globalValueFlags are runc's global options that take a value, so that a
// value is never mistaken for the command.
var globalValueFlags = map[string]bool{"root": true, "log": true, "log-format": true, "criu": true, "rootless": true}

// specFile finds the file runc will read the process definition from:
// <bundle>/config.json for create and run, the --process file for exec.
// isProcess tells that the file holds a bare process object. It returns ""
// when runc will read no such file (every other command).
func specFile(args []string) (file string, isProcess bool) {
	i := 0
	for ; i < len(args); i++ {
		name, hasValue := flagName(args[i])
		if name == "" {
			break
		}
		if globalValueFlags[name] && !hasValue {
			i++
		}
	}
	if i >= len(args) {
		return "", false
	}
	cmd, rest := args[i], args[i+1:]
	switch cmd {
	case "create", "run":
		bundle := flagValue(rest, "bundle", "b")
		if bundle == "" {
			bundle = "."
		}
		return filepath.Join(bundle, "config.json"), false
	case "exec":
		if p := flagValue(rest, "process", "p"); p != "" {
			return p, true
		}
	}
	return "", false
}

// flagName returns the name of a -x / --x / --x=v argument ("" when arg is
// not a flag) and whether the value is attached with '='.
func flagName(arg string) (string, bool) {
	if !strings.HasPrefix(arg, "-") || arg == "-" || arg == "--" {
		return "", false
	}
	name := strings.TrimLeft(arg, "-")
	if k, _, ok := strings.Cut(name, "="); ok {
		return k, true
	}
	return name, false
}

// flagValue returns the value of the first --long/-short flag in args.
func flagValue(args []string, long, short string) string {
	for i, a := range args {
		if a == "--" {
			return ""
		}
		name, attached := flagName(a)
		if name != long && name != short {
			continue
		}
		if attached {
			_, v, _ := strings.Cut(a, "=")
			return v
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// patchFile rewrites file in place when (and only when) it needs a change.
func patchFile(file string, isProcess bool) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	out, changed, err := patchSpec(data, isProcess)
	if err != nil || !changed {
		return err
	}
	info, err := os.Stat(file)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".runc-lab-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// patchSpec removes CAP_SYS_RESOURCE from every capability set and raises a
// negative oomScoreAdj to 0, in an OCI runtime spec (or a bare process
// object when isProcess). Numbers and unknown fields are kept as they were.
func patchSpec(data []byte, isProcess bool) ([]byte, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return nil, false, err
	}
	proc := root
	if !isProcess {
		p, ok := root["process"].(map[string]any)
		if !ok {
			return data, false, nil
		}
		proc = p
	}
	changed := false
	if caps, ok := proc["capabilities"].(map[string]any); ok {
		for set, v := range caps {
			list, ok := v.([]any)
			if !ok {
				continue
			}
			kept := make([]any, 0, len(list))
			for _, c := range list {
				if s, _ := c.(string); s == dropCap {
					changed = true
					continue
				}
				kept = append(kept, c)
			}
			caps[set] = kept
		}
	}
	if n, ok := proc["oomScoreAdj"].(json.Number); ok {
		if v, err := n.Int64(); err == nil && v < 0 {
			proc["oomScoreAdj"] = json.Number("0")
			changed = true
		}
	}
	if !changed {
		return data, false, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return nil, false, err
	}
	return buf.Bytes(), true, nil
}
