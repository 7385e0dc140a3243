package keycap_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReleaseFiles: the files a release needs are there and say what
// issue #11 asks of them: LICENSE is MIT; SECURITY.md says how to report,
// the guarantees, the threat model and what is out of scope; CHANGELOG.md
// is in Keep a Changelog form (no merge conflict left in it) with a table
// of old → new names; the README has a section on versioning and the Go
// versions supported, naming the go.mod minimum.
func TestReleaseFiles(t *testing.T) {
	license := read(t, "LICENSE")
	assert.True(t, strings.HasPrefix(license, "MIT License\n"), "LICENSE is MIT")
	assert.Contains(t, license, "Permission is hereby granted, free of charge")
	assert.Contains(t, license, `THE SOFTWARE IS PROVIDED "AS IS"`)

	security := read(t, "SECURITY.md")
	for _, heading := range []string{"## Reporting a vulnerability", "## What keycap guarantees", "## Threat model", "## Out of scope"} {
		assert.Contains(t, security, "\n"+heading, "SECURITY.md")
	}

	changelog := read(t, "CHANGELOG.md")
	for _, marker := range []string{"<<<<<<<", "=======", ">>>>>>>"} {
		assert.NotRegexp(t, regexp.MustCompile(`(?m)^`+marker), changelog, "CHANGELOG.md holds a merge conflict marker")
	}
	assert.Contains(t, changelog, "[Keep a Changelog](https://keepachangelog.com/")
	assert.Contains(t, changelog, "\n## [Unreleased]\n")
	assert.Contains(t, changelog, "\n[Unreleased]: https://", "the version's link")
	kinds := regexp.MustCompile(`^### (Added|Changed|Deprecated|Removed|Fixed|Security)( \(.+\))?$`)
	headings := 0
	for _, line := range strings.Split(changelog, "\n") {
		switch {
		case strings.HasPrefix(line, "### "):
			headings++
			assert.Regexp(t, kinds, line, "a Keep a Changelog kind of change, optionally with what it is about")
		case strings.HasPrefix(line, "## "):
			assert.Regexp(t, `^## \[(Unreleased|\d+\.\d+\.\d+)\]( - \d{4}-\d{2}-\d{2})?$`, line)
		}
	}
	assert.Positive(t, headings)
	table := between(t, changelog, "Old name → new name:\n\n", "\n\n")
	rows := strings.Split(table, "\n")
	require.GreaterOrEqual(t, len(rows), 3)
	assert.Equal(t, "| old | new |", rows[0])
	for _, row := range rows[2:] {
		assert.Regexp(t, "^\\| [^|]*`[^|]* \\| .+ \\|$", row, "old → new row")
	}

	readme := read(t, "README.md")
	section := between(t, readme, "\n## Versioning and support\n", "\n## ")
	gomod := read(t, "go.mod")
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(gomod)
	require.NotNil(t, goVersion, "go.mod names a go version")
	assert.Contains(t, section, "semantic versioning")
	assert.Contains(t, section, "Go: "+goVersion[1]+" and later", "the README names go.mod's minimum")
	assert.Contains(t, section, "SECURITY.md")
}
