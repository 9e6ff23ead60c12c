// Package secretenv reads secrets from environment variables the way Docker
// and Kubernetes hand them out: a secret named NAME comes either from the
// variable NAME or from the file named by NAME_FILE (a mounted secret), so
// that the secret itself never has to sit in the process environment.
package secretenv

import (
	"fmt"
	"os"
	"strings"
)

// FileSuffix turns a variable's name into the name of its file variant.
const FileSuffix = "_FILE"

// Lookup returns the secret named name: the value of the variable name, or
// the content of the file named by name+"_FILE" with its trailing line
// breaks removed (editors and `echo` add one; no secret O2O reads ends in
// one). Both set is an error: which one wins would be a guess. Neither set
// is "" and no error, so that callers keep their own "is not set" message.
// getenv is os.Getenv when nil. Errors name the variables and the file,
// never the secret.
func Lookup(getenv func(string) string, name string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	value, path := getenv(name), getenv(name+FileSuffix)
	switch {
	case path == "":
		return value, nil
	case value != "":
		return "", fmt.Errorf("both %s and %s%s are set; set only one", name, name, FileSuffix)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s%s: %w", name, FileSuffix, err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s%s names %s, which is empty", name, FileSuffix, path)
	}
	return s, nil
}
