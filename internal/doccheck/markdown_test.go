package doccheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGoBlocks(t *testing.T) {
	md := "# t\n" + // 1
		"```go\n" + // 2
		"x := 1\n" + // 3
		"```\n" + // 4
		"```sh\n" + // 5
		"go test\n" + // 6
		"```\n" + // 7
		"<!-- not-go-checked: pseudo-code -->\n" + // 8
		"```go\n" + // 9
		"...\n" + // 10
		"```\n" + // 11
		"- a list item:\n" + // 12
		"  ````golang title\n" + // 13
		"  ```\n" + // 14: inside: shorter than the fence
		"    y := 2\n" + // 15
		"  ````\n" // 16
	blocks, err := GoBlocks("README.md", []byte(md))
	require.NoError(t, err)
	assert.Equal(t, []Block{
		{File: "README.md", Line: 2, Code: "x := 1\n"},
		{File: "README.md", Line: 9, Code: "...\n", OptOut: "pseudo-code"},
		{File: "README.md", Line: 13, Code: "```\n  y := 2\n"},
	}, blocks)
	assert.Equal(t, "README.md:13", blocks[2].Pos())
	assert.Equal(t, "readme_md_13", blocks[2].Package())
}

func TestGoBlocksRefusesWhatWouldBeLeftOut(t *testing.T) {
	for _, tc := range []struct{ name, md, want string }{
		{"opt-out before prose", "<!-- not-go-checked: why -->\ntext\n", "README.md:1: not-go-checked is not on the line before a ```go fence"},
		{"opt-out before sh", "<!-- not-go-checked: why -->\n```sh\nls\n```\n", "README.md:1: not-go-checked is before a \"```sh\" fence, not a ```go one"},
		{"opt-out at the end", "<!-- not-go-checked: why -->\n", "README.md:1: not-go-checked is not on the line before a ```go fence"},
		{"opt-out without a reason", "<!-- not-go-checked -->\n```go\nx\n```\n", "README.md:1: not-go-checked needs a reason: <!-- not-go-checked: why -->"},
		{"unclosed", "text\n```go\nx := 1\n", "README.md:2: this code fence is never closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := GoBlocks("README.md", []byte(tc.md))
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}
