package tunnel

import "errors"

// errString is err's text, "" for nil (for status fields and log dedup).
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// errorsAs is errors.As for a target type.
func errorsAs[T error](err error) (T, bool) {
	var t T
	ok := errors.As(err, &t)
	return t, ok
}
