package main

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/o2o-sync/o2o/codec"
	"github.com/o2o-sync/o2o/config"
)

// runEnv is the file make run writes its development settings to (the
// configuration, Temporal's address, the payload key, the operator token),
// at the top of the checkout; cmd/devstack writes it.
const runEnv = ".run/env"

// settingsHint says how to get the settings err misses, in a checkout where
// make run wrote them: "source .run/env" (the path from the working
// directory, which may be below the checkout's top). It is "" for any other
// error, outside such a checkout, or when the setting is there.
func settingsHint(err error) string {
	missing := errors.Is(err, config.ErrConfigNotSet) ||
		(errors.Is(err, codec.ErrUnknownKey) && os.Getenv(codec.EnvKeys) == "")
	if !missing {
		return ""
	}
	path := findRunEnv()
	if path == "" {
		return ""
	}
	return "make run wrote its settings to " + path + ": run `source " + path + "` in this terminal first"
}

// findRunEnv looks for .run/env in the working directory and each directory
// above it, and returns its path relative to the working directory.
func findRunEnv() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, runEnv)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			if rel, err := filepath.Rel(wd, p); err == nil {
				return rel
			}
			return p
		}
		if filepath.Dir(dir) == dir {
			return ""
		}
	}
}
