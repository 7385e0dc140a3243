// Package doccheck holds the machinery of keycap's documentation checks
// (readme_test.go and docs_test.go at the module root): it pulls the Go
// blocks out of Markdown files, turns each into a Go file that the compiler
// can check, and walks the module's packages for undocumented exported names
// and the size of their API.
//
// It works from the files as they are, not from a list of names: blocks
// are found in the Markdown, imports are chosen from the identifiers a
// block uses, and packages are found on disk. Nothing here is part of
// keycap's API.
package doccheck
